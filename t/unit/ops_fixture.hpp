// SPDX-License-Identifier: GPL-2.0-or-later
// A root for the operations' unit tests: complete fake kernel headers, modules added from plain
// dkms.conf files (read without bash), and every process answered by FakeProcesses.
#pragma once

#include <string>
#include <vector>

#include "dkms/kernel/kernel.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/tree/tree.hpp"
#include "fake_processes.hpp"
#include "support.hpp"

namespace dkms::test {

inline const std::string kKernel = "6.1.0-99-amd64";

/// FakeRoot with kernel kKernel (headers complete, as check_headers wants them), module signing off
/// (framework.conf), and ctx.processes = &procs.
struct OpsRoot : FakeRoot {
    FakeProcesses procs;
    Tree tree{settings};
    Target T{kKernel, "x86_64"};

    OpsRoot() {
        ctx.processes = &procs;
        add_complete_kernel(kKernel);
        write(settings.etc_dkms() / "framework.conf", "try_sign_modules=false\n");
    }
    fs::path kdir() const { return settings.install_tree / kKernel; }
    void add_complete_kernel(const std::string& kver) {
        fs::path b = add_kernel(kver);
        for (auto rel : {"include/generated/autoconf.h", "include/generated/utsrelease.h", "scripts/Makefile.modpost"})
            write(b / rel, "");
    }
    /// <source_tree>/<name>-<version>/ with a plain dkms.conf (one module, `name`, in /updates/dkms,
    /// AUTOINSTALL, plus `extra` lines) and a source file; make for it writes <name>.ko (modinfo
    /// version=<version>). Added to the tree.
    ModuleId add_module(const std::string& name, const std::string& version, const std::string& extra = "") {
        ModuleId id{name, version};
        fs::path src = settings.source_tree / (name + "-" + version);
        write(src / "dkms.conf", "PACKAGE_NAME=" + name + "\nPACKAGE_VERSION=" + version + "\nBUILT_MODULE_NAME[0]=" +
                                     name + "\nDEST_MODULE_LOCATION[0]=/updates/dkms\nAUTOINSTALL=yes\n" + extra);
        write(src / (name + ".c"), "// " + name + "\n");
        procs.on("/" + name + "/" + version + "/build",
                 make_writes({{name + ".ko", fake_module_image({"version=" + version, "srcversion=" + name + version})}}));
        Ops(ctx).add(id, T);
        report.out_lines.clear();
        report.err_lines.clear();
        return id;
    }
    /// The make command dkms runs for module m/v (MAKE unset), the root written @ROOT@.
    static std::string make_command(const ModuleId& id, const std::string& jobs = "-j3") {
        return "make " + jobs + " KERNELRELEASE=" + kKernel + " -C @ROOT@/lib/modules/" + kKernel + "/build M=@ROOT@/var/lib/dkms/" +
               id.name + "/" + id.version + "/build";
    }
    /// The Why block after a failed build whose (fake) make.log ends with `make_cmd` and names no
    /// error: diagnosed as unknown, its log kept beside the record (docs/build-failures.md).
    static std::vector<std::string> why_unknown(const ModuleId& id, const std::string& make_cmd) {
        return {"Why: the failed step ends in make.log with:", "    fake run of: " + make_cmd,
                "Likely cause: dkms-run does not recognise this error.",
                "What to do: Read the whole make.log; if the module's source is at fault, report it to the authors of " +
                    id.name + " with that file.",
                "The whole log: @ROOT@/var/lib/dkms/" + id.name + "/" + id.version + "/.dkms-run-builds/" + kKernel +
                    "/x86_64/make.log"};
    }
    /// The commands run so far, the root written @ROOT@.
    std::vector<std::string> commands() const {
        std::vector<std::string> out;
        for (auto& c : procs.commands()) out.push_back(rooted(c));
        return out;
    }
    fs::path installed_file(const std::string& name) const { return kdir() / "updates/dkms" / (name + ".ko"); }
    /// What was said on stdout (stderr) since the last call, the root's path written @ROOT@.
    std::vector<std::string> out() { return take(report.out_lines); }
    std::vector<std::string> err() { return take(report.err_lines); }
    std::vector<std::string> take(std::vector<std::string>& lines) const {
        std::vector<std::string> o;
        for (auto& l : lines) o.push_back(rooted(l));
        lines.clear();
        return o;
    }
    std::string rooted(std::string l) const {
        const std::string root = path().string();
        for (size_t at; (at = l.find(root)) != std::string::npos;) l.replace(at, root.size(), "@ROOT@");
        return l;
    }
};

}  // namespace dkms::test
