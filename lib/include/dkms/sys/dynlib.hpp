// SPDX-License-Identifier: GPL-2.0-or-later
// Shared libraries loaded when first needed (dlopen), not by the dynamic loader at every start.
#pragma once

#include <string>

namespace dkms {

/// dlopen(soname), kept for the life of the process. Throws Error naming the library and the
/// Debian package that ships it when it cannot be loaded.
void* load_library(const char* soname, const char* package);

/// The function `name` of a library from load_library; throws Error when it has none.
void* library_function(void* handle, const char* soname, const char* name);

/// The functions listed by an X-macro, as members of a struct, by their own names and types:
/// `struct Zlib { DKMS_LIBRARY_POINTERS(ZLIB_FUNCTIONS) };` and, to fill one,
/// `DKMS_LIBRARY_RESOLVE(ZLIB_FUNCTIONS, zlib, handle, soname)`.
#define DKMS_LIBRARY_POINTER(f) decltype(&::f) f;
#define DKMS_LIBRARY_POINTERS(LIST) LIST(DKMS_LIBRARY_POINTER)
#define DKMS_LIBRARY_RESOLVE_ONE(f) \
    dkms_lib_.f = reinterpret_cast<decltype(dkms_lib_.f)>(::dkms::library_function(dkms_h_, dkms_so_, #f));
#define DKMS_LIBRARY_RESOLVE(LIST, lib, handle, soname) \
    do {                                                \
        auto& dkms_lib_ = (lib);                        \
        void* dkms_h_ = (handle);                       \
        const char* dkms_so_ = (soname);                \
        LIST(DKMS_LIBRARY_RESOLVE_ONE)                  \
    } while (0)

}  // namespace dkms
