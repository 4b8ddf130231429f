// Test inputs: the exact output of `runc spec` and `runc spec --rootless` (runc 1.1, run as root),
// and a configuration that sets every field the model knows, written in Go field order.

/// `runc spec` output, tab-indented as runc writes it.
let runcDefaultConfig = #"""
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620",
				"gid=5"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "sysfs",
			"source": "sysfs",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"resources": {
			"devices": [
				{
					"allow": false,
					"access": "rwm"
				}
			]
		},
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "network"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
}
"""#

/// `runc spec --rootless` output (run as root, so the mappings are 0 → 0).
let runcRootlessConfig = #"""
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "none",
			"source": "/sys",
			"options": [
				"rbind",
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"uidMappings": [
			{
				"containerID": 0,
				"hostID": 0,
				"size": 1
			}
		],
		"gidMappings": [
			{
				"containerID": 0,
				"hostID": 0,
				"size": 1
			}
		],
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			},
			{
				"type": "user"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
}
"""#

/// Every field of the configuration model, in the order the encoder writes them (Go's field
/// order; map keys sorted), so decode + encode must give this document back unchanged.
let fullConfig = #"""
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "consoleSize": {
      "height": 25,
      "width": 80
    },
    "user": {
      "uid": 1000,
      "gid": 1000,
      "umask": 18,
      "additionalGids": [
        5,
        6
      ],
      "username": "alice"
    },
    "args": [
      "/bin/sh",
      "-c",
      "echo \"hi\" \\ there\n"
    ],
    "commandLine": "cmd.exe /c dir",
    "env": [
      "PATH=/usr/bin:/bin",
      "LANG=C.UTF-8"
    ],
    "cwd": "/home/alice",
    "capabilities": {
      "bounding": [
        "CAP_KILL"
      ],
      "effective": [
        "CAP_KILL"
      ],
      "inheritable": [],
      "permitted": [
        "CAP_KILL"
      ],
      "ambient": []
    },
    "rlimits": [
      {
        "type": "RLIMIT_NOFILE",
        "hard": 18446744073709551615,
        "soft": 1024
      }
    ],
    "noNewPrivileges": true,
    "apparmorProfile": "acme_secure_profile",
    "oomScoreAdj": -500,
    "scheduler": {
      "policy": "SCHED_DEADLINE",
      "nice": -5,
      "priority": 10,
      "flags": [
        "SCHED_FLAG_RESET_ON_FORK"
      ],
      "runtime": 10000000,
      "deadline": 20000000,
      "period": 30000000
    },
    "selinuxLabel": "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
    "ioPriority": {
      "class": "IOPRIO_CLASS_BE",
      "priority": 4
    },
    "execCPUAffinity": {
      "initial": "7",
      "final": "0-3,7"
    }
  },
  "root": {
    "path": "/var/lib/containers/rootfs",
    "readonly": false
  },
  "hostname": "node-17",
  "domainname": "cluster.local",
  "mounts": [
    {
      "destination": "/data",
      "type": "bind",
      "source": "/scratch/data",
      "options": [
        "rbind",
        "ro",
        "idmap"
      ],
      "uidMappings": [
        {
          "containerID": 0,
          "hostID": 100000,
          "size": 65536
        }
      ],
      "gidMappings": [
        {
          "containerID": 0,
          "hostID": 100000,
          "size": 65536
        }
      ]
    },
    {
      "destination": "/tmp"
    }
  ],
  "hooks": {
    "prestart": [
      {
        "path": "/usr/bin/fix-mounts",
        "args": [
          "fix-mounts",
          "arg1"
        ],
        "env": [
          "key1=value1"
        ]
      }
    ],
    "createRuntime": [
      {
        "path": "/usr/bin/setup-network",
        "timeout": 5
      }
    ],
    "createContainer": [
      {
        "path": "/usr/bin/mount-hook"
      }
    ],
    "startContainer": [
      {
        "path": "/usr/bin/refresh-ldcache"
      }
    ],
    "poststart": [
      {
        "path": "/usr/bin/notify-start",
        "timeout": 1
      }
    ],
    "poststop": [
      {
        "path": "/usr/sbin/cleanup.sh",
        "args": [
          "cleanup.sh",
          "-f"
        ]
      }
    ]
  },
  "annotations": {
    "com.example.gpu": "all",
    "org.opencontainers.image.os": "linux"
  },
  "linux": {
    "uidMappings": [
      {
        "containerID": 0,
        "hostID": 1000,
        "size": 32000
      }
    ],
    "gidMappings": [
      {
        "containerID": 0,
        "hostID": 1000,
        "size": 32000
      }
    ],
    "sysctl": {
      "net.core.somaxconn": "256",
      "net.ipv4.ip_forward": "1"
    },
    "resources": {
      "devices": [
        {
          "allow": false,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 10,
          "minor": 229,
          "access": "rw"
        }
      ],
      "memory": {
        "limit": 536870912,
        "reservation": 536870912,
        "swap": -1,
        "kernel": -1,
        "kernelTCP": -1,
        "swappiness": 0,
        "disableOOMKiller": false,
        "useHierarchy": true,
        "checkBeforeUpdate": true
      },
      "cpu": {
        "shares": 1024,
        "quota": 1000000,
        "burst": 1000000,
        "period": 500000,
        "realtimeRuntime": 950000,
        "realtimePeriod": 1000000,
        "cpus": "2-3",
        "mems": "0-7",
        "idle": 0
      },
      "pids": {
        "limit": 32771
      },
      "blockIO": {
        "weight": 10,
        "leafWeight": 10,
        "weightDevice": [
          {
            "major": 8,
            "minor": 0,
            "weight": 500,
            "leafWeight": 300
          }
        ],
        "throttleReadBpsDevice": [
          {
            "major": 8,
            "minor": 0,
            "rate": 600
          }
        ],
        "throttleWriteBpsDevice": [
          {
            "major": 8,
            "minor": 16,
            "rate": 700
          }
        ],
        "throttleReadIOPSDevice": [
          {
            "major": 8,
            "minor": 32,
            "rate": 300
          }
        ],
        "throttleWriteIOPSDevice": [
          {
            "major": 8,
            "minor": 48,
            "rate": 400
          }
        ]
      },
      "hugepageLimits": [
        {
          "pageSize": "2MB",
          "limit": 209715200
        }
      ],
      "network": {
        "classID": 1048577,
        "priorities": [
          {
            "name": "eth0",
            "priority": 500
          }
        ]
      },
      "rdma": {
        "mlx5_1": {
          "hcaHandles": 3,
          "hcaObjects": 10000
        }
      },
      "unified": {
        "io.max": "259:0 rbps=2097152 wiops=120",
        "memory.high": "1073741824"
      }
    },
    "cgroupsPath": "/myRuntime/myContainer",
    "namespaces": [
      {
        "type": "pid"
      },
      {
        "type": "network",
        "path": "/var/run/netns/neta"
      },
      {
        "type": "mount"
      },
      {
        "type": "ipc"
      },
      {
        "type": "uts"
      },
      {
        "type": "user"
      },
      {
        "type": "cgroup"
      },
      {
        "type": "time"
      }
    ],
    "devices": [
      {
        "path": "/dev/fuse",
        "type": "c",
        "major": 10,
        "minor": 229,
        "fileMode": 438,
        "uid": 0,
        "gid": 0
      },
      {
        "path": "/dev/pipe",
        "type": "p"
      }
    ],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": [
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86"
      ],
      "flags": [
        "SECCOMP_FILTER_FLAG_LOG"
      ],
      "listenerPath": "/run/seccomp-agent.socket",
      "listenerMetadata": "opaque",
      "syscalls": [
        {
          "names": [
            "getcwd",
            "chmod"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "personality"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 38,
          "args": [
            {
              "index": 0,
              "value": 18446744073709551615,
              "valueTwo": 4294967295,
              "op": "SCMP_CMP_MASKED_EQ"
            }
          ]
        }
      ]
    },
    "rootfsPropagation": "rslave",
    "maskedPaths": [
      "/proc/kcore"
    ],
    "readonlyPaths": [
      "/proc/sys"
    ],
    "mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811",
    "intelRdt": {
      "closID": "guaranteed_group",
      "schemata": [
        "L3:0=7f0;1=1f",
        "MB:0=20;1=70"
      ],
      "l3CacheSchema": "L3:0=7f0;1=1f",
      "memBwSchema": "MB:0=20;1=70",
      "enableMonitoring": true,
      "enableCMT": true,
      "enableMBM": false
    },
    "personality": {
      "domain": "LINUX32",
      "flags": []
    },
    "timeOffsets": {
      "boottime": {
        "secs": -9223372036854775808,
        "nanosecs": 4294967295
      },
      "monotonic": {
        "secs": 86400
      }
    },
    "memoryPolicy": {
      "mode": "MPOL_INTERLEAVE",
      "nodes": "0-3",
      "flags": [
        "MPOL_F_STATIC_NODES"
      ]
    },
    "netDevices": {
      "eth1": {
        "name": "ctr1"
      },
      "ib0": {}
    }
  }
}
"""#
