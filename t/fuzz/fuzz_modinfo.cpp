// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the ELF .modinfo reader (read_modinfo_image). Input: the bytes of a .ko.
#include "dkms/core/error.hpp"
#include "dkms/kernel/kernel.hpp"
#include "fuzz_support.hpp"

using namespace dkms;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view img = dkms::fuzz::as_text(data, size);
    std::vector<std::pair<std::string, std::string>> mi;
    try {
        mi = read_modinfo_image(img, "fuzz.ko");
    } catch (const Error&) {
        return 0;  // not a module we can read: refused with an Error
    }
    size_t total = 0;
    for (auto& [k, v] : mi) {
        FUZZ_CHECK(k.find('\0') == std::string::npos && v.find('\0') == std::string::npos, "NUL inside an entry");
        FUZZ_CHECK(k.find('=') == std::string::npos, "'=' in key " + k);
        total += k.size() + v.size() + 2;
    }
    // Every entry comes from the image: together they cannot be larger than it.
    FUZZ_CHECK(total <= size + 1, "more .modinfo text than input");
    for (const char* key : {"vermagic", "name", "license", "version", "srcversion", "depends"})
        if (auto v = modinfo_get(mi, key)) FUZZ_CHECK(v->find('\0') == std::string::npos, key);
    return 0;
}
