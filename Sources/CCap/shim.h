#ifndef OCIRUN_CCAP_SHIM_H
#define OCIRUN_CCAP_SHIM_H
#include <sys/capability.h>
#endif
