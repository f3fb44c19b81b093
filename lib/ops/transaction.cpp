// SPDX-License-Identifier: GPL-2.0-or-later
// What happens once per transaction: framework.conf's post_transaction, BUILD_DEPENDS_REBUILD.
#include <chrono>
#include <fstream>

#include "dkms/conf/framework.hpp"
#include "dkms/core/scope_guard.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/sys/process.hpp"
#include "dkms/conf/raw_conf.hpp"

namespace dkms {

int run_post_transaction(Context& ctx, const std::vector<Target>& targets) {
    const Settings& s = ctx.settings;
    // Read again now, as dkms 3.4 does, so that $kernelver can be used in it.
    std::string cmd = s.post_transaction;
    std::vector<fs::path> files = framework_files(s);
    if (!files.empty()) {
        ShellPresets presets{{"kernelver", targets.empty() ? "" : targets.front().kver},
                             {"arch", targets.empty() ? "" : targets.front().arch}};
        cmd = raw_get(evaluate_config(files, presets, {"post_transaction"}), "post_transaction");
    }
    if (cmd.empty()) return 0;
    fs::path log = s.dkms_tree / "post_transaction.log";
    write_file_atomic(log, "");
    {
        std::ofstream l(log, std::ios::app);
        l << "\nExecuting post-transaction command\n# command: " << cmd << "\n";
    }
    ctx.report.out_partial("Executing post-transaction command...");
    ProcessSpec p;
    p.argv = {"bash", "-c", cmd};
    p.out = ProcessSpec::Out::AppendFile;
    p.out_file = log;
    p.err_to_out = true;
    if (!targets.empty()) p.set_env = {{"kernelver", targets.front().kver}, {"arch", targets.front().arch}};
    auto start = std::chrono::steady_clock::now();
    ProcessResult r = run_process(ctx, p);
    long secs = long(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count());
    {
        std::ofstream l(log, std::ios::app);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", secs / 3600, (secs / 60) % 60, secs % 60);
        l << "\n# exit code: " << r.status << "\n# elapsed time: " << buf
          << "\n----------------------------------------------------------------\n";
    }
    if (r.ok()) {
        ctx.report.out(" done.");
    } else {
        ctx.report.out("(bad exit status: " + std::to_string(r.status) + ")");
        ctx.report.out("Failed command:");
        ctx.report.out(cmd);
        ctx.report.err("Warning: post_transaction failed; its output is in " + log.string() + ".");
    }
    return r.status;
}

void Ops::rebuild_dependents(const Target& t) {
    // Modules built for this kernel whose BUILD_DEPENDS moved to another version since they were built.
    std::vector<ModuleId> stale;
    for (auto& m : tree_.modules())
        for (auto& v : tree_.versions(m)) {
            ModuleId id{m, v};
            if (!tree_.is_added(id) || !tree_.is_built(id, t)) continue;
            ModuleConfig c;
            try {
                c = read_conf(id, t, ConfMode::Lenient);
            } catch (const Error&) {
                continue;
            }
            std::string want = raw_get(c.raw, "BUILD_DEPENDS_REBUILD");
            for (auto& ch : want) ch = char(std::tolower(static_cast<unsigned char>(ch)));
            if (c.build_depends.empty() || want != "yes") continue;
            for (auto& d : c.build_depends) {
                std::string now = latest_built_version(tree_, d, t);
                if (now.empty()) continue;
                fs::path rec = tree_.built_dir(id, t) / (".dep_" + d);
                std::string then;
                if (fs::exists(rec)) {
                    then = read_file(rec);
                    then = then.substr(0, then.find('\n'));
                }
                if (then != now) {
                    stale.push_back(id);
                    break;
                }
            }
        }
    rebuilding_dependents_ = true;
    ScopeGuard done([&] { rebuilding_dependents_ = false; });
    for (auto& id : stale) {
        ctx_.report.out("");
        ctx_.report.out("Rebuilding module " + id.str() + " due to updated dependencies");
        ctx_.report.out("");
        unbuild(id, t);
        build(id, t);
        install(id, t);
    }
}

}  // namespace dkms
