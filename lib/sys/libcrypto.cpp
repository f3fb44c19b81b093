// SPDX-License-Identifier: GPL-2.0-or-later
// The one place that loads libcrypto (dlopen), on first use.
#include "dkms/sys/libcrypto.hpp"

#include <dlfcn.h>

#include <mutex>
#include <optional>
#include <string>

#include "dkms/core/error.hpp"

namespace dkms {

namespace {

#define DKMS_STRINGIFY2(x) #x
#define DKMS_STRINGIFY(x) DKMS_STRINGIFY2(x)
// The soname of the libcrypto whose headers this was built with (libcrypto.so.3).
constexpr const char* soname = "libcrypto.so." DKMS_STRINGIFY(OPENSSL_VERSION_MAJOR);

Libcrypto load() {
    void* h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        throw Error(ExitCode::Error, {std::string("cannot load ") + soname + ": " + dlerror(),
                                      "dkms-run needs OpenSSL's libcrypto for this (Debian: the package libssl3)."});
    Libcrypto c{};
#define DKMS_LIBCRYPTO_RESOLVE(f)                                                                   \
    c.f = reinterpret_cast<decltype(c.f)>(dlsym(h, #f));                                            \
    if (!c.f) throw Error(ExitCode::Error, std::string(soname) + " has no function " #f);
    DKMS_LIBCRYPTO_FUNCTIONS(DKMS_LIBCRYPTO_RESOLVE)
#undef DKMS_LIBCRYPTO_RESOLVE
    return c;  // the library stays loaded for the life of the process
}

}  // namespace

const Libcrypto& libcrypto() {
    static std::mutex m;
    static std::optional<Libcrypto> loaded;
    std::lock_guard<std::mutex> g(m);
    if (!loaded) loaded = load();
    return *loaded;
}

std::string openssl_error() {
    const Libcrypto& c = libcrypto();
    unsigned long e = c.ERR_get_error();
    if (!e) return "unknown OpenSSL error";
    char buf[256];
    c.ERR_error_string_n(e, buf, sizeof buf);
    c.ERR_clear_error();
    return buf;
}

}  // namespace dkms
