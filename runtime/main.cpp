// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run: dkms's command line (actions and options in any order) -> Context -> command -> exit code.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <set>

#include "command.hpp"
#include "config.h"
#include "progress.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/conf/framework.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/lock.hpp"
#include "dkms/sys/process.hpp"

namespace po = boost::program_options;
using namespace dkms;
using namespace dkms::cli;

namespace {

class StdReporter : public Reporter {
public:
    void out(std::string_view line) override {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }
    void out_partial(std::string_view text) override {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    }
    void err(std::string_view line) override {
        std::fflush(stdout);
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fputc('\n', stderr);
        std::fflush(stderr);
    }
    bool interactive() const override { return isatty(1); }
    int columns() const override {
        winsize w{};
        if (ioctl(1, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) return w.ws_col;
        if (const char* c = getenv("COLUMNS"); c && std::atoi(c) > 0) return std::atoi(c);
        return 80;
    }
    void progress(const ProgressEvent& e) override { progress_.render(e); }

private:
    ProgressRenderer progress_{*this};
};

void print_usage(Reporter& r) {
    r.out("Usage: dkms-run [action] [options] [module/version | source-dir | dkms.conf]");
    r.out("  [action]  = one of the actions below (dkms's, and dkms-run's own: postinst, lint)");
    r.out("  [options] = [-m module] [-v module-version] [-k kernel-version[/arch]] [-a arch] [--all]");
    r.out("              [--force] [--force-version-override] [--dkmstree path] [--sourcetree path]");
    r.out("              [--installtree path] [--kernelsourcedir path] [-c dkms.conf] [--directive 'NAME=value']");
    r.out("              [-j jobs] [--no-depmod] [--verbose] [-q] [--json] [--root path] [--version] [--help]");
    r.out("");
    r.out("Actions:");
    size_t width = 0;
    for (auto* c : commands())
        if (*c->summary) width = std::max(width, std::string_view(c->name).size());
    for (auto* c : commands()) {
        if (!*c->summary) continue;
        std::string line = "  ";
        line += c->name;
        line.resize(width + 4, ' ');
        r.out(line + c->summary);
    }
}

po::options_description option_table() {
    po::options_description d;
    d.add_options()
        ("module,m", po::value<std::string>())
        (",v", po::value<std::string>())
        ("kernelver,k", po::value<std::vector<std::string>>())
        ("arch,a", po::value<std::vector<std::string>>())
        ("all", po::bool_switch())
        ("force", po::bool_switch())
        ("force-version-override", po::bool_switch())
        ("kernelsourcedir", po::value<std::string>())
        ("config", po::value<std::string>())
        (",c", po::value<std::string>())
        ("directive", po::value<std::vector<std::string>>())
        ("templatekernel", po::value<std::string>())
        ("archive", po::value<std::string>())
        ("binaries-only", po::bool_switch())
        ("source-only", po::bool_switch())
        ("output-dir", po::value<std::string>())
        ("mok-signing-key", po::value<std::string>())
        ("mok-certificate", po::value<std::string>())
        ("dkmstree", po::value<std::string>())
        ("sourcetree", po::value<std::string>())
        ("installtree", po::value<std::string>())
        ("root", po::value<std::string>())
        ("symlink-modules", po::bool_switch())
        (",j", po::value<std::string>())
        ("no-depmod", po::bool_switch())
        ("modprobe-on-install", po::bool_switch())
        ("verbose", po::bool_switch())
        ("quiet,q", po::bool_switch())
        ("version,V", po::bool_switch())
        ("help,h", po::bool_switch())
        ("json", po::bool_switch())
        ("rpm_safe_upgrade", po::bool_switch())
        ("no-initrd", po::bool_switch())
        ("no-clean-kernel", po::bool_switch())
        ("no-prepare-kernel", po::bool_switch())
        ("debug", po::bool_switch())
        ("args", po::value<std::vector<std::string>>());
    return d;
}

bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

int run(int argc, char** argv, StdReporter& rep) {
    umask(022);
    install_interrupt_handlers();
    Settings settings;
    Context ctx{settings, rep};
    Settings& s = ctx.settings;
    s.dkms_tree = DKMS_DEFAULT_DKMS_TREE;
    s.source_tree = DKMS_DEFAULT_SOURCE_TREE;
    s.install_tree = DKMS_DEFAULT_INSTALL_TREE;
    if (const char* t = getenv("TMPDIR"); t && *t) s.tmp_location = t;
    if (const char* pj = getenv("parallel_jobs"); pj && *pj) s.parallel_jobs = pj;

    po::positional_options_description pos;
    pos.add("args", -1);
    auto style = po::command_line_style::allow_long | po::command_line_style::long_allow_adjacent |
                 po::command_line_style::long_allow_next | po::command_line_style::allow_short |
                 po::command_line_style::short_allow_next | po::command_line_style::allow_dash_for_short |
                 po::command_line_style::allow_guessing;
    auto desc = option_table();
    po::parsed_options parsed(&desc);
    try {
        parsed = po::command_line_parser(argc, argv).options(desc).positional(pos).style(style).run();
    } catch (const po::unknown_option& e) {
        rep.err("");
        rep.err("Error! Unknown option: " + e.get_option_name());
        print_usage(rep);
        return 2;
    } catch (const po::error& e) {
        rep.err("");
        rep.err(std::string("Error! ") + e.what());
        print_usage(rep);
        return 2;
    }

    Invocation inv{ctx, "", "", "", std::nullopt, {}, false, false, false, {}, {}, {}, {}, false, false, {}, {}};
    std::vector<std::string> kernels, arches;
    std::optional<std::string> root, dkmstree, sourcetree, installtree;
    bool quiet = false;
    bool want_help = false;
    std::string mv_word;  // the positional word taken as module/version
    for (auto& o : parsed.options) {
        const std::string& k = o.string_key;
        const std::string v = o.value.empty() ? "" : o.value.front();
        if (k == "module") {  // keys of short-only options are "-v", "-c", "-j"
            auto slash = v.find('/');
            inv.module = v.substr(0, slash);
            if (slash != std::string::npos) inv.version = v.substr(slash + 1);
        } else if (k == "-v") inv.version = v;
        else if (k == "kernelver") {
            auto slash = v.find('/');
            kernels.push_back(v.substr(0, slash));
            if (slash != std::string::npos) arches.push_back(v.substr(slash + 1));
        } else if (k == "arch") arches.push_back(v);
        else if (k == "all") s.all = true;
        else if (k == "force") s.force = true;
        else if (k == "force-version-override") s.force_version_override = true;
        else if (k == "kernelsourcedir") s.kernel_source_dir = v;
        else if (k == "-c") s.conf_override = fs::absolute(v);
        else if (k == "config") s.kernel_config = fs::absolute(v);
        else if (k == "modprobe-on-install") s.modprobe_on_install = true;
        else if (k == "directive") s.directives.push_back(v);
        else if (k == "archive") inv.archive = v;
        else if (k == "templatekernel") inv.template_kernel = v;
        else if (k == "output-dir") inv.output_dir = v;
        else if (k == "mok-signing-key") inv.sign_key = v;
        else if (k == "mok-certificate") inv.sign_cert = v;
        else if (k == "binaries-only") inv.binaries_only = true;
        else if (k == "source-only") inv.source_only = true;
        else if (k == "dkmstree") dkmstree = v;
        else if (k == "sourcetree") sourcetree = v;
        else if (k == "installtree") installtree = v;
        else if (k == "root") root = v;
        else if (k == "symlink-modules") s.symlink_modules = true;
        else if (k == "-j") {
            try {
                s.jobs = std::stoi(v);
            } catch (...) {
                rep.err("");
                rep.err("Error! -j needs a number, not '" + v + "'.");
                return 2;
            }
            s.jobs_given = true;
        } else if (k == "no-depmod") s.no_depmod = true;
        else if (k == "verbose") s.verbose = true;
        else if (k == "quiet") quiet = true;
        else if (k == "json") inv.json = true;
        else if (k == "no-initrd" || k == "no-clean-kernel" || k == "no-prepare-kernel")
            rep.err("Deprecated feature: --" + k);
        else if (k == "version") {
            rep.out("dkms-run-" DKMS_RUN_VERSION);
            return 0;
        } else if (k == "help") {
            want_help = true;
        } else if (k == "args") {
            for (auto& word : o.value) {
                // error_code forms: a word too long for a path (ENAMETOOLONG) is just not a file here.
                std::error_code ec;
                static const std::regex action_re("^[a-z_]+$");
                if (find_command(word) || (inv.action.empty() && std::regex_match(word, action_re) &&
                                           (word == "lint" || word == "autoinstall" || word == "match" ||
                                            word == "mktarball" || word == "ldtarball" || word == "generate_mok" ||
                                            word.rfind("kernel_", 0) == 0))) {
                    if (!inv.action.empty()) {
                        rep.err("");
                        rep.err("Error! Cannot specify more than one action.");
                        return 4;
                    }
                    inv.action = word;
                } else if (!inv.action.empty() && inv.action == "lint") {
                    inv.extra_args.push_back(word);
                } else if (ends_with(word, "dkms.conf") && fs::exists(fs::symlink_status(word, ec))) {
                    inv.source_path = fs::absolute(word);
                } else if (fs::is_directory(word, ec) &&
                           fs::exists(fs::symlink_status(fs::path(word) / "dkms.conf", ec))) {
                    // A source directory (add_path says what is wrong with a dkms.conf that is no regular
                    // file). A directory without one is module/version, as for dkms: "/dir" is module ""
                    // and version "dir", and the command says the arguments are missing.
                    inv.source_path = fs::absolute(word);
                } else if (fs::is_regular_file(word, ec) && !inv.archive) {
                    inv.archive = word;  // an archive, as dkms takes any other existing file
                } else if (inv.module.empty()) {
                    mv_word = word;
                    auto slash = word.find('/');
                    inv.module = word.substr(0, slash);
                    if (slash != std::string::npos) inv.version = word.substr(slash + 1);
                } else {
                    rep.err("Warning: I do not know how to handle " + word + ".");
                }
            }
        }
    }
    // ldtarball of a path that does not exist: dkms takes it as module/version and names nothing;
    // here it stays the archive, which load_tarball then says does not exist.
    if (inv.action == "ldtarball" && !inv.archive && !mv_word.empty()) {
        inv.archive = mv_word;
        inv.module.clear();
        inv.version.clear();
    }
    if (quiet) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
            close(null);
        }
    }
    // An empty path would silently mean the current directory (or fail deep inside); a relative one
    // would change meaning once make runs in another directory.
    for (auto [opt, val] : {std::pair{"--root", &root}, std::pair{"--dkmstree", &dkmstree},
                            std::pair{"--sourcetree", &sourcetree}, std::pair{"--installtree", &installtree}})
        if (*val && val->value().empty()) {
            rep.err("");
            rep.err(std::string("Error! ") + opt + " needs a directory, not an empty string.");
            return 2;
        }
    if (root) s.root = fs::path(*root).is_relative() ? fs::absolute(*root) : fs::path(*root);
    if (s.root != "/") {
        // With --root, the default trees live inside it.
        s.dkms_tree = s.root / fs::path(DKMS_DEFAULT_DKMS_TREE).relative_path();
        s.source_tree = s.root / fs::path(DKMS_DEFAULT_SOURCE_TREE).relative_path();
        s.install_tree = s.root / fs::path(DKMS_DEFAULT_INSTALL_TREE).relative_path();
    }
    try {
        load_framework(s);
    } catch (const Error& e) {
        print_error(rep, e);
        return int(e.code());
    }
    if (dkmstree) s.dkms_tree = fs::absolute(*dkmstree);
    if (sourcetree) s.source_tree = fs::absolute(*sourcetree);
    if (installtree) s.install_tree = fs::absolute(*installtree);
    rep.set_verbose(s.verbose);

    const Command* cmd = find_command(inv.action);
    if (want_help) {
        if (!cmd) {
            print_usage(rep);
        } else {
            rep.out(std::string("Usage: dkms-run ") + cmd->usage);
            rep.out(std::string("  ") + cmd->summary);
            rep.out("Run 'dkms-run --help' for the options.");
        }
        return 0;
    }
    // dkms's order: os-release at start, then the global option checks, then the action.
    if (!has_os_release(s)) {
        print_error(rep, Error(ExitCode::ConfMissing, "System is missing os-release file."));
        return 4;
    }
    if (inv.binaries_only && inv.source_only) {
        print_error(rep, Error(ExitCode::BadConf, {"You have specified both --binaries-only and --source-only.",
                                                   "You cannot do this."}));
        return 8;
    }
    if (arches.size() > 1 && arches.size() != kernels.size()) {
        rep.err("");
        rep.err("Error! If more than one arch is specified on the command line, then there");
        rep.err("must be an equal number of kernel versions also specified (1:1 relationship).");
        return 1;
    }
    // mkbmdeb --all without a module: every module, for the kernels given with -k (docs/fleet.md).
    const bool all_modules = inv.action == "mkbmdeb" && inv.module.empty();
    if ((inv.sign_key || inv.sign_cert) && inv.action != "mkbmdeb") {
        rep.err("");
        rep.err("Error! --mok-signing-key and --mok-certificate are options of mkbmdeb only.");
        return 2;
    }
    if (s.all && !kernels.empty() && !all_modules) {
        rep.err("");
        rep.err("Error! You cannot specify a kernel version and also specify");
        rep.err("--all on the command line.");
        return 2;
    }
    if (s.all && !arches.empty() && !all_modules) {
        rep.err("");
        rep.err("Error! You cannot specify an arch and also specify");
        rep.err("--all on the command line.");
        return 3;
    }
    if (!cmd) {
        rep.err("");
        rep.err("Error! Unknown action specified: \"" + inv.action + "\"");
        print_usage(rep);
        return 0;
    }
    // dkms's setup_kernels_arches (not for status): "Empty kernelver[i]", then "Empty arch[i]".
    for (auto [list, name] : {std::pair{&kernels, "kernelver"}, std::pair{&arches, "arch"}})
        for (size_t i = 0; i < list->size() && inv.action != "status"; ++i)
            if ((*list)[i].empty()) {
                std::string what = std::string("Empty ") + name + "[" + std::to_string(i) + "]";
                print_error(rep, Error(ExitCode::EmptyKernel, what));
                return 16;
            }
    if (s.all && !cmd->accepts_all) {
        rep.err("");
        rep.err("Error! The action " + inv.action + " does not support the --all parameter.");
        return 5;
    }
    inv.kernels_given = !kernels.empty();
    inv.arch_given = !arches.empty();
    if (kernels.empty() && cmd->needs_targets && !s.all) kernels.push_back(running_kernel());
    std::string default_arch = arches.size() == 1 ? arches.front() : machine_arch();
    for (size_t i = 0; i < kernels.size(); ++i)
        inv.targets.push_back({kernels[i], arches.size() > 1 ? arches[i] : default_arch});
    if (kernels.empty() && !arches.empty()) inv.targets.push_back({"", arches.front()});

    try {
        // A version without a module is reported missing by the command (as dkms does for a path
        // taken as module/version: "/dir" is module "" and version "dir").
        if (!inv.module.empty()) check_identifier("module name", inv.module);
        if (!inv.module.empty() && !inv.version.empty()) check_identifier("module version", inv.version);
        // Refuse hostile kernel and arch names before anything touches the disk (the lock included).
        for (auto& t : inv.targets) {
            if (!t.kver.empty()) check_identifier("kernel version", t.kver);
            if (!t.arch.empty()) check_identifier("architecture", t.arch);
        }
        std::optional<TreeLock> lock;
        if (cmd->writes) lock.emplace(s.dkms_tree, rep, s.lock_timeout);
        int rc = cmd->run(inv);
        static const std::set<std::string> transactions{"install", "uninstall", "unbuild", "remove"};
        if (rc == 0 && transactions.count(inv.action) && !interrupted_signal()) run_post_transaction(ctx, inv.targets);
        // A signal may have been met by code that carries on after failures (autoinstall's modules).
        throw_if_interrupted();
        return rc;
    } catch (const Interrupted& e) {
        print_error(rep, Error(ExitCode(128 + e.signal()),
                               {std::string("Stopped: ") + e.what() + "; the programs it ran were stopped, temporary "
                                                                      "files removed.",
                                "What was complete stays (dkms-run status shows it); run the command again to "
                                "finish."}));
        return 128 + e.signal();
    } catch (const Error& e) {
        if (int sig = interrupted_signal()) {
            print_error(rep, e);
            return 128 + sig;
        }
        print_error(rep, e);
        return int(e.code());
    } catch (const std::filesystem::filesystem_error& e) {
        print_error(rep, Error(ExitCode::Error, e.what()));
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    StdReporter rep;
    try {
        return run(argc, argv, rep);
    } catch (const std::exception& e) {
        rep.err("");
        rep.err(std::string("Error! internal error: ") + e.what());
        return 1;
    }
}
