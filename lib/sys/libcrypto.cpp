// SPDX-License-Identifier: GPL-2.0-or-later
// The one place that loads libcrypto (dlopen), on first use.
#include "dkms/sys/libcrypto.hpp"

#include <string>

#include "dkms/core/error.hpp"
#include "dkms/sys/dynlib.hpp"

namespace dkms {

namespace {

#define DKMS_STRINGIFY2(x) #x
#define DKMS_STRINGIFY(x) DKMS_STRINGIFY2(x)
// The soname of the libcrypto whose headers this was built with (libcrypto.so.3).
constexpr const char* soname = "libcrypto.so." DKMS_STRINGIFY(OPENSSL_VERSION_MAJOR);

Libcrypto load() {
    Libcrypto c{};
    DKMS_LIBRARY_RESOLVE(DKMS_LIBCRYPTO_FUNCTIONS, c, load_library(soname, "libssl3"), soname);
    return c;  // the library stays loaded for the life of the process
}

}  // namespace

const Libcrypto& libcrypto() {
    static const Libcrypto c = load();  // a failed load throws, and is tried again by the next call
    return c;
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
