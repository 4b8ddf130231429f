"""Writes the OCI image layouts the engine tests import: nothing is pulled from a registry.

* busybox: one uncompressed tar layer holding Debian's busybox-static as /bin/busybox with a
  symlink per applet, a minimal /etc/passwd and /etc/group, and the usual empty directories.
* pause: the sandbox image of the CRI tests, a static binary compiled from engines/pause.c
  that sleeps in pause() until SIGTERM/SIGINT.

Each layout is also written as a tar archive (what `ctr image import` and `podman load` read).
"""

import hashlib
import io
import json
import os
import subprocess
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUSYBOX = "/bin/busybox"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _add_file(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar, name, mode=0o755):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, 0
    tar.addfile(info)


def _add_symlink(tar, name, target):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, target, 0o777, 0
    tar.addfile(info)


def busybox_layer():
    """The tar bytes of the busybox root file system."""
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True).stdout.split()
    with open(BUSYBOX, "rb") as f:
        binary = f.read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ["bin", "dev", "etc", "proc", "sys", "root", "run", "var", "usr", "usr/bin", "sbin"]:
            _add_dir(tar, d)
        _add_dir(tar, "tmp", 0o1777)
        _add_file(tar, "bin/busybox", binary, 0o755)
        for applet in sorted(set(applets) - {"busybox"}):
            _add_symlink(tar, "bin/" + applet, "busybox")
        _add_file(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        _add_file(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    return buf.getvalue()


def pause_layer(workdir):
    """The tar bytes of the sandbox image: /pause, compiled statically from pause.c."""
    exe = os.path.join(workdir, "pause")
    subprocess.run(["gcc", "-static", "-O2", "-o", exe, os.path.join(HERE, "pause.c")], check=True)
    with open(exe, "rb") as f:
        binary = f.read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ["dev", "proc", "sys", "etc"]:
            _add_dir(tar, d)
        _add_file(tar, "pause", binary, 0o755)
    return buf.getvalue()


def write_layout(directory, name, layer, config):
    """Writes an OCI image layout for one image with one layer; returns the path of its tar archive.

    `name` is the full reference (`localhost/ocirun-test/busybox:1`), recorded in the index
    annotations that containerd (io.containerd.image.name) and podman (org.opencontainers.image.ref.name)
    read when they import the archive.
    """
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def blob(data, media_type):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}

    layer_desc = blob(layer, "application/vnd.oci.image.layer.v1.tar")
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
        "history": [{"created_by": "ocirun engine tests"}],
    }
    config_desc = blob(json.dumps(image_config).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer_desc],
    }
    manifest_desc = blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    manifest_desc["annotations"] = {
        "io.containerd.image.name": name,
        "org.opencontainers.image.ref.name": name,
    }
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": [manifest_desc]}, f)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    archive = directory + ".tar"
    with tarfile.open(archive, "w") as tar:
        for entry in sorted(os.listdir(directory)):
            tar.add(os.path.join(directory, entry), arcname=entry)
    return archive


def build_images(workdir):
    """Writes both layouts under workdir; returns {"busybox": (ref, archive), "pause": (ref, archive)}."""
    os.makedirs(workdir, exist_ok=True)
    busybox_ref = "localhost/ocirun-test/busybox:1"
    pause_ref = "localhost/ocirun-test/pause:1"
    busybox = write_layout(os.path.join(workdir, "busybox-oci"), busybox_ref, busybox_layer(),
                           {"Env": [PATH_ENV], "Cmd": ["/bin/sh"], "WorkingDir": "/"})
    pause = write_layout(os.path.join(workdir, "pause-oci"), pause_ref, pause_layer(workdir),
                         {"Env": [PATH_ENV], "Entrypoint": ["/pause"]})
    return {"busybox": (busybox_ref, busybox), "pause": (pause_ref, pause)}
