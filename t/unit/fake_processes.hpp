// SPDX-License-Identifier: GPL-2.0-or-later
// A ProcessRunner for unit tests: no process is started; each call is recorded and answered by a
// scripted rule (make that "builds" a module by writing its .ko, a depmod that fails, ...).
#pragma once

#include <cstdint>
#include <cstring>
#include <elf.h>
#include <unistd.h>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dkms/sys/fs.hpp"
#include "dkms/sys/process.hpp"

namespace dkms::test {

/// What a fake process does: its result, after any side effect on the disk.
using FakeAction = std::function<ProcessResult(const ProcessSpec&)>;

/// Records every process the engine asks for and answers it with the first rule whose pattern occurs in
/// the command (its argv joined by spaces); a command no rule matches succeeds without doing anything.
/// Thread-safe: autoinstall's builds call it from several threads.
class FakeProcesses : public ProcessRunner {
public:
    struct Call {
        std::vector<std::string> argv;
        std::optional<fs::path> cwd;
        std::vector<std::pair<std::string, std::string>> env;  ///< what is set on top of ours
        std::string command() const {
            std::string c;
            for (auto& a : argv) c += (c.empty() ? "" : " ") + a;
            return c;
        }
    };

    void on(std::string pattern, FakeAction action) {
        std::lock_guard<std::mutex> g(mu_);
        rules_.insert(rules_.begin(), {std::move(pattern), std::move(action)});  // the latest rule wins
    }
    void on(std::string pattern, int status) {
        on(std::move(pattern), [status](const ProcessSpec&) { return ProcessResult{status, ""}; });
    }

    ProcessResult run(const ProcessSpec& spec) override {
        FakeAction action;
        {
            std::lock_guard<std::mutex> g(mu_);
            calls_.push_back({spec.argv, spec.cwd, spec.set_env});
            std::string cmd = calls_.back().command();
            for (auto& [pattern, a] : rules_)
                if (cmd.find(pattern) != std::string::npos) {
                    action = a;
                    break;
                }
        }
        ProcessResult r = action ? action(spec) : ProcessResult{};
        if (spec.out == ProcessSpec::Out::AppendFile && !spec.out_file.empty()) {
            std::lock_guard<std::mutex> g(mu_);
            append(spec.out_file, "fake run of: " + spec.argv.back() + "\n");
        } else if (spec.out == ProcessSpec::Out::Fd && spec.out_fd >= 0) {  // a build step's make.log
            std::string line = "fake run of: " + spec.argv.back() + "\n";
            if (write(spec.out_fd, line.data(), line.size()) != ssize_t(line.size())) r.status = 127;
        }
        return r;
    }

    std::vector<Call> calls() const {
        std::lock_guard<std::mutex> g(mu_);
        return calls_;
    }
    /// Each command run, argv joined by spaces.
    std::vector<std::string> commands() const {
        std::vector<std::string> out;
        for (auto& c : calls()) out.push_back(c.command());
        return out;
    }
    /// How many commands contained `pattern`.
    std::size_t count(const std::string& pattern) const {
        std::size_t n = 0;
        for (auto& c : commands()) n += c.find(pattern) != std::string::npos;
        return n;
    }

    static void append(const fs::path& p, const std::string& text) {
        std::string old;
        if (path_exists(p)) old = read_file(p);
        write_file_atomic(p, old + text, 0644);
    }

private:
    mutable std::mutex mu_;
    std::vector<std::pair<std::string, FakeAction>> rules_;
    std::vector<Call> calls_;
};

/// The bytes of a minimal kernel module: an ELF64 relocatable object whose .modinfo section holds
/// `modinfo` ("version=1.0", "srcversion=...", ...), as read_modinfo reads it.
inline std::string fake_module_image(const std::vector<std::string>& modinfo) {
    std::string info;
    for (auto& m : modinfo) info += m + '\0';
    const std::string names = std::string("\0.modinfo\0.shstrtab\0", 20);
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_REL;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 3;
    eh.e_shstrndx = 2;
    const std::uint64_t info_off = sizeof(Elf64_Ehdr), names_off = info_off + info.size();
    eh.e_shoff = names_off + names.size();
    Elf64_Shdr sh[3]{};
    sh[1].sh_name = 1;
    sh[1].sh_type = SHT_PROGBITS;
    sh[1].sh_offset = info_off;
    sh[1].sh_size = info.size();
    sh[2].sh_name = 10;
    sh[2].sh_type = SHT_STRTAB;
    sh[2].sh_offset = names_off;
    sh[2].sh_size = names.size();
    std::string img(reinterpret_cast<const char*>(&eh), sizeof eh);
    img += info + names;
    img.append(reinterpret_cast<const char*>(sh), sizeof sh);
    return img;
}

/// A make that "builds": writes each file (path relative to its working directory) with its bytes,
/// then exits with `status`. A build step always runs in its build directory; a call without a working
/// directory that the rule's pattern also matches (`strip -g <build>/foo.ko`) is not make, and succeeds
/// without writing anything (it wrote the modules into the test's own working directory once).
inline FakeAction make_writes(std::vector<std::pair<std::string, std::string>> files, int status = 0) {
    return [files = std::move(files), status](const ProcessSpec& spec) {
        if (!spec.cwd) return ProcessResult{0, ""};
        for (auto& [rel, bytes] : files) {
            fs::path p = *spec.cwd / rel;
            fs::create_directories(p.parent_path());
            write_file_atomic(p, bytes, 0644);
        }
        return ProcessResult{status, ""};
    };
}

}  // namespace dkms::test
