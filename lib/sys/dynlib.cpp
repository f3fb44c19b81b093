// SPDX-License-Identifier: GPL-2.0-or-later
// dlopen and dlsym, with errors that say what to install.
#include "dkms/sys/dynlib.hpp"

#include <dlfcn.h>

#include "dkms/core/error.hpp"

namespace dkms {

void* load_library(const char* soname, const char* package) {
    void* h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        throw Error(ExitCode::Error, {std::string("cannot load ") + soname + ": " + dlerror(),
                                      std::string("dkms-run needs it for this (Debian: the package ") + package + ")."});
    return h;
}

void* library_function(void* handle, const char* soname, const char* name) {
    void* f = dlsym(handle, name);
    if (!f) throw Error(ExitCode::Error, std::string(soname) + " has no function " + name);
    return f;
}

}  // namespace dkms
