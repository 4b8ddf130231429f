"""A small client for the Kubernetes CRI v1 API (runtime.v1), the calls kubelet makes to containerd.

Only the messages the engine tests need are written here, by hand, as protobuf wire format
(field numbers from the CRI v1 api.proto): no generated code, no protoc. The transport is
grpcio (Debian's python3-grpcio) over containerd's unix socket.
"""

import grpc

# --- protobuf wire format -------------------------------------------------------------------


def _varint(n):
    if n < 0:
        n += 1 << 64  # int32/int64 negatives are ten-byte two's complement varints
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Msg:
    """A message to encode: Msg((field_number, value), ...). Values: str, bytes, int, bool,
    Msg, dict (a map<string,string>), list (a repeated field); None leaves the field out."""

    def __init__(self, *fields):
        self.fields = fields

    def encode(self):
        out = bytearray()
        for num, value in self.fields:
            for v in _expand(value):
                if isinstance(v, bool) or isinstance(v, int):
                    out += _varint(num << 3 | 0) + _varint(int(v))
                else:
                    data = v.encode() if isinstance(v, str) else v.encode() if isinstance(v, Msg) else bytes(v)
                    out += _varint(num << 3 | 2) + _varint(len(data)) + data
        return bytes(out)


def _expand(value):
    if value is None:
        return []
    if isinstance(value, dict):
        return [Msg((1, k), (2, v)) for k, v in value.items()]
    if isinstance(value, list):
        return value
    return [value]


def decode(data):
    """Decodes one message into {field_number: [raw values]} (ints for varints, bytes otherwise)."""
    fields, i = {}, 0
    while i < len(data):
        key, i = _read_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(data, i)
        elif wire == 2:
            length, i = _read_varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError("unsupported protobuf wire type %d" % wire)
        fields.setdefault(num, []).append(value)
    return fields


def _read_varint(data, i):
    shift = n = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def _signed(n, bits=64):
    return n - (1 << bits) if n >= 1 << (bits - 1) else n


def _str(fields, num):
    return fields.get(num, [b""])[0].decode()


# --- CRI v1 calls ---------------------------------------------------------------------------

POD, CONTAINER, NODE = 0, 1, 2  # NamespaceMode
CONTAINER_STATES = {0: "CREATED", 1: "RUNNING", 2: "EXITED", 3: "UNKNOWN"}


class CRIError(Exception):
    pass


class Client:
    def __init__(self, socket_path, timeout=60):
        self.channel = grpc.insecure_channel("unix://" + socket_path)
        self.timeout = timeout

    def close(self):
        self.channel.close()

    def _call(self, service, method, request):
        call = self.channel.unary_unary("/runtime.v1.%s/%s" % (service, method),
                                        request_serializer=lambda m: m.encode(),
                                        response_deserializer=decode)
        try:
            return call(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise CRIError("%s: %s: %s" % (method, e.code().name, e.details())) from None

    def version(self):
        r = self._call("RuntimeService", "Version", Msg((1, "v1")))
        return {"runtime_name": _str(r, 2), "runtime_version": _str(r, 3), "runtime_api_version": _str(r, 4)}

    def image_present(self, ref):
        r = self._call("ImageService", "ImageStatus", Msg((1, Msg((1, ref)))))
        return 1 in r

    @staticmethod
    def sandbox_config(name, uid, log_dir, cgroup_parent=None):
        """A pod in the host's network namespace (no CNI), with its own pid and ipc namespaces."""
        namespaces = Msg((1, NODE), (2, 0), (3, 0))
        security = Msg((1, namespaces))
        return Msg((1, Msg((1, name), (2, uid), (3, "default"), (4, 0))),
                   (3, log_dir),
                   (6, {"ocirun-test": "1"}),
                   (8, Msg((1, cgroup_parent), (2, security))))

    def run_pod_sandbox(self, config, handler):
        r = self._call("RuntimeService", "RunPodSandbox", Msg((1, config), (2, handler)))
        return _str(r, 1)

    def create_container(self, pod_id, sandbox_config, name, image, command, args=(), env=None, log_path=None,
                         tty=False, linux=None):
        envs = [Msg((1, k), (2, v)) for k, v in (env or {}).items()]
        config = Msg((1, Msg((1, name), (2, 0))),
                     (2, Msg((1, image))),
                     (3, list(command)),
                     (4, list(args)),
                     (6, envs),
                     (11, log_path),
                     (12, tty or None),  # stdin
                     (14, tty or None),  # tty
                     (15, linux))
        r = self._call("RuntimeService", "CreateContainer", Msg((1, pod_id), (2, config), (3, sandbox_config)))
        return _str(r, 1)

    @staticmethod
    def linux_config(memory_limit=None, run_as_user=None, readonly_rootfs=False, drop_caps=(), add_caps=(),
                     no_new_privs=False, seccomp_runtime_default=False, pid_mode=None):
        """LinuxContainerConfig: resources and the security context (pid_mode: a NamespaceMode for
        the container's pid namespace, as the kubelet sets it: CONTAINER unless the pod shares)."""
        resources = Msg((4, memory_limit)) if memory_limit else None
        namespaces = Msg((1, NODE), (2, pid_mode), (3, 0)) if pid_mode is not None else None
        security = Msg((1, Msg((1, list(add_caps)), (2, list(drop_caps)))),
                       (3, namespaces),
                       (5, Msg((1, run_as_user)) if run_as_user is not None else None),
                       (7, readonly_rootfs or None),
                       (11, no_new_privs or None),
                       (15, Msg((1, 0)) if seccomp_runtime_default else None))  # RuntimeDefault
        return Msg((1, resources), (2, security))

    def start_container(self, cid):
        self._call("RuntimeService", "StartContainer", Msg((1, cid)))

    def exec_sync(self, cid, cmd, timeout=20):
        r = self._call("RuntimeService", "ExecSync", Msg((1, cid), (2, list(cmd)), (3, timeout)))
        exit_code = _signed(r.get(3, [0])[0])
        return r.get(1, [b""])[0].decode(), r.get(2, [b""])[0].decode(), exit_code

    def update_container_resources(self, cid, cpu_period=0, cpu_quota=0, cpu_shares=0, memory_limit=0):
        resources = Msg((1, cpu_period or None), (2, cpu_quota or None), (3, cpu_shares or None),
                        (4, memory_limit or None))
        self._call("RuntimeService", "UpdateContainerResources", Msg((1, cid), (2, resources)))

    def container_status(self, cid):
        r = self._call("RuntimeService", "ContainerStatus", Msg((1, cid)))
        status = decode(r[1][0])
        return {"state": CONTAINER_STATES.get(status.get(3, [0])[0], "?"),
                "exit_code": _signed(status.get(7, [0])[0]),
                "reason": _str(status, 10), "message": _str(status, 11)}

    def stop_container(self, cid, timeout=0):
        self._call("RuntimeService", "StopContainer", Msg((1, cid), (2, timeout)))

    def remove_container(self, cid):
        self._call("RuntimeService", "RemoveContainer", Msg((1, cid)))

    def stop_pod_sandbox(self, pod_id):
        self._call("RuntimeService", "StopPodSandbox", Msg((1, pod_id)))

    def remove_pod_sandbox(self, pod_id):
        self._call("RuntimeService", "RemovePodSandbox", Msg((1, pod_id)))
