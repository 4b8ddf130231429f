#ifndef OCIRUN_CYAJL_SHIM_H
#define OCIRUN_CYAJL_SHIM_H
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>
#include <yajl/yajl_gen.h>
#endif
