// SPDX-License-Identifier: GPL-2.0-or-later
// Reads the .modinfo section of an ELF64/ELF32 kernel module without spawning modinfo.
#include <elf.h>

#include <cstring>

#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"

namespace dkms {

namespace {

template <typename Ehdr, typename Shdr>
std::string_view find_modinfo(std::string_view img, const std::string& name) {
    auto bad = [&](const char* why) { return Error(ExitCode::Error, name + ": not a valid kernel module (" + why + ")"); };
    if (img.size() < sizeof(Ehdr)) throw bad("truncated ELF header");
    Ehdr eh;
    std::memcpy(&eh, img.data(), sizeof eh);
    if (eh.e_shentsize != sizeof(Shdr)) throw bad("unexpected section header size");
    uint64_t shoff = eh.e_shoff, shnum = eh.e_shnum;
    if (shoff > img.size() || shnum > (img.size() - shoff) / sizeof(Shdr)) throw bad("section table out of range");
    if (eh.e_shstrndx >= shnum) throw bad("bad section name index");
    auto shdr = [&](size_t i) {
        Shdr s;
        std::memcpy(&s, img.data() + shoff + i * sizeof(Shdr), sizeof s);
        return s;
    };
    Shdr strtab = shdr(eh.e_shstrndx);
    if (strtab.sh_offset > img.size() || strtab.sh_size > img.size() - strtab.sh_offset) throw bad("bad string table");
    std::string_view names(img.data() + strtab.sh_offset, strtab.sh_size);
    for (size_t i = 0; i < shnum; ++i) {
        Shdr s = shdr(i);
        if (s.sh_name >= names.size()) continue;
        std::string_view nm = names.substr(s.sh_name);
        nm = nm.substr(0, nm.find('\0'));
        if (nm != ".modinfo") continue;
        if (s.sh_offset > img.size() || s.sh_size > img.size() - s.sh_offset) throw bad(".modinfo out of range");
        return img.substr(s.sh_offset, s.sh_size);
    }
    return {};
}

}  // namespace

std::vector<std::pair<std::string, std::string>> read_modinfo(const std::filesystem::path& ko) {
    return read_modinfo_image(read_file(ko), ko.string());
}

std::vector<std::pair<std::string, std::string>> read_modinfo_image(std::string_view img, const std::string& name) {
    if (img.size() < EI_NIDENT || std::memcmp(img.data(), ELFMAG, SELFMAG) != 0)
        throw Error(ExitCode::Error, name + ": not a valid kernel module (no ELF magic)");
    std::string_view sec = img[EI_CLASS] == ELFCLASS64 ? find_modinfo<Elf64_Ehdr, Elf64_Shdr>(img, name)
                                                       : find_modinfo<Elf32_Ehdr, Elf32_Shdr>(img, name);
    std::vector<std::pair<std::string, std::string>> out;
    while (!sec.empty()) {
        auto end = sec.find('\0');
        std::string_view entry = sec.substr(0, end);
        auto eq = entry.find('=');
        if (eq != std::string_view::npos) out.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
        if (end == std::string_view::npos) break;
        sec.remove_prefix(end + 1);
    }
    return out;
}

std::optional<std::string> modinfo_get(const std::vector<std::pair<std::string, std::string>>& mi, const std::string& key) {
    for (auto& [k, v] : mi)
        if (k == key) return v;
    return std::nullopt;
}

}  // namespace dkms
