// SPDX-License-Identifier: GPL-2.0-or-later
// dh_dkms: install dkms.conf, check it, and add the dkms-run maintainer-script snippets and dependency.
#include <boost/program_options.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "config.h"
#include "dkms/deb/debhelper.hpp"
#include "dkms/core/error.hpp"
#include "dkms/lint/lint.hpp"

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace dkms;

namespace {

// Minimum runtime the generated snippets need (the `postinst` and `remove NAME/VERSION --all` verbs).
constexpr const char* kRuntimeDep = "dkms-run (>= 0.1.0)";

void message(const std::string& level, const std::string& msg) {
    std::cerr << dh::format_message("dh_dkms", level, msg, dh::use_color()) << "\n";
}

struct StdReporter : Reporter {
    void out(std::string_view l) override { std::cout << l << "\n"; }
    void err(std::string_view l) override { std::cerr << l << "\n"; }
    void out_partial(std::string_view t) override { std::cout << t; }
};

std::vector<std::string> words(const char* s) {
    std::vector<std::string> w{"dh_dkms"};
    std::istringstream in(s ? s : "");
    for (std::string x; in >> x;) w.push_back(x);
    return w;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw SystemError("cannot read " + p.string(), errno);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Cli {
    dh::Options dh;
    std::optional<std::string> V;  // -V[version]
    std::vector<std::string> files;
};

Cli parse(int argc, char** argv) {
    po::options_description desc;
    desc.add_options()("help,h", "")("package,p", po::value<std::vector<std::string>>()->composing(), "")(
        "no-package,N", po::value<std::vector<std::string>>()->composing(), "")("arch,a", "")("indep,i", "")(
        "remaining-packages", "")("tmpdir,P", po::value<std::string>(), "")("name", po::value<std::string>(), "")(
        "mainpackage", po::value<std::string>(), "")("verbose,v", "")("no-act", "")(
        ",V", po::value<std::string>()->implicit_value(""), "")("legacy,l", "")("no-scripts,n", "")(
        "only-scripts,o", "")(",O", po::value<std::vector<std::string>>()->composing(), "")(
        "files", po::value<std::vector<std::string>>()->composing(), "");
    po::positional_options_description pos;
    pos.add("files", -1);
    const int style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).style(style).run(), vm);
    if (vm.count("-O"))  // dh's passthrough: apply what we know, ignore the rest silently
        for (const auto& o : vm["-O"].as<std::vector<std::string>>()) {
            auto w = words(o.c_str());
            auto p = po::command_line_parser(w).options(desc).style(style).allow_unregistered().run();
            po::store(p, vm);
        }
    if (const char* env = std::getenv("DH_OPTIONS"); env && *env) {
        auto w = words(env);
        auto p = po::command_line_parser(w).options(desc).style(style).allow_unregistered().run();
        if (!po::collect_unrecognized(p.options, po::exclude_positional).empty())
            message("warning", "ignored unknown options in DH_OPTIONS");
        po::store(p, vm);
    }
    if (vm.count("help")) {
        std::cout << "Usage: dh_dkms [options] [-V[version]] [-- file]\n\n"
                     "  dh_dkms is a dkms-run helper for debhelper. See debhelper(7)\n"
                     "  and dh_dkms(1) for complete usage instructions.\n";
        std::exit(1);
    }
    Cli c;
    auto list = [&](const char* k) {
        return vm.count(k) ? vm[k].as<std::vector<std::string>>() : std::vector<std::string>{};
    };
    auto str = [&](const char* k) { return vm.count(k) ? vm[k].as<std::string>() : std::string(); };
    c.dh.packages = list("package");
    c.dh.no_packages = list("no-package");
    c.dh.arch = vm.count("arch");
    c.dh.indep = vm.count("indep");
    c.dh.remaining = vm.count("remaining-packages");
    c.dh.tmpdir = str("tmpdir");
    c.dh.name = str("name");
    c.dh.mainpackage = str("mainpackage");
    c.dh.verbose = vm.count("verbose");
    c.dh.no_act = vm.count("no-act");
    dh::apply_environment(c.dh);
    if (vm.count("-V")) c.V = str("-V");
    c.files = list("files");
    if (vm.count("legacy")) message("warning", "-l/--legacy is not supported by this dh_dkms and is ignored");
    return c;
}

// Which dkms.conf a package gets: its pkgfile (the conf itself or a list naming it), else `-- FILE`.
std::optional<fs::path> find_conf(dh::Helper& h, const Cli& cli, const std::string& pkg) {
    auto pf = h.pkgfile(pkg, "dkms");
    if (!pf) {
        if (cli.files.size() > 1) throw Error(ExitCode::Error, "only one dkms.conf may be given on the command line");
        return cli.files.empty() ? std::nullopt : std::optional<fs::path>(cli.files.front());
    }
    if (dh::looks_like_dkms_conf(slurp(h.src(*pf)))) return pf;
    auto list = h.filearray(*pf, pkg);
    if (list.size() != 1)
        throw Error(ExitCode::Error, pf->string() + " must name exactly one dkms.conf (it names " +
                                         std::to_string(list.size()) + ")");
    return fs::path(list.front());
}

// One package; returns false if its checks found errors (nothing is written then).
bool do_package(dh::Helper& h, const Cli& cli, const std::string& pkg) {
    auto conf = find_conf(h, cli, pkg);
    if (!conf) return true;
    h.verbose_print("installing " + conf->string() + " as dkms.conf");
    lint::ConfInput in{slurp(h.src(*conf)), conf->string(), "", "", false};
    if (cli.V) {
        in.expected_version = cli.V->empty() ? h.upstream_version(pkg) : *cli.V;
        in.expected_version_origin = cli.V->empty() ? "debian/changelog" : "-V";
        for (size_t p; (p = in.text.find("#MODULE_VERSION#")) != std::string::npos;)
            in.text.replace(p, 16, in.expected_version);
    }
    auto rep = lint::lint_conf(in);
    const fs::path dest = h.tmpdir(pkg) / "usr/src" / (rep.name.value_or("") + "-" + rep.version.value_or(""));
    if (!lint::has_errors(rep.findings))
        for (auto& f : lint::lint_source_dir(h.src(dest), dest.string(), *rep.name, *rep.version))
            rep.findings.push_back(f);
    if (!lint::has_errors(rep.findings) && !h.options().no_act)  // what dkms-run add would say, on the installed tree
        for (auto& f : lint::lint_runtime(in.text, h.src(dest), conf->string())) rep.findings.push_back(f);
    for (const auto& f : rep.findings) {
        if (f.severity == lint::Severity::Error) message("error", lint::describe(f));
        if (f.severity == lint::Severity::Warning && !h.options().quiet) message("warning", lint::describe(f));
        if (f.severity == lint::Severity::Info) h.verbose_print(lint::format_finding(f));
    }
    if (lint::has_errors(rep.findings)) return false;
    fs::path source = *conf;
    if (cli.V) {  // the placeholder-free copy, removed by dh_clean like every debian/*.debhelper file
        source = fs::path("debian") / (pkg + ".dkms.debhelper");
        h.verbose_print("write " + source.string() + " (" + conf->string() + " with #MODULE_VERSION# replaced)");
        if (!h.options().no_act) std::ofstream(h.src(source), std::ios::binary | std::ios::trunc) << in.text;
    }
    const std::string bec = raw_get(rep.conf.vars, "BUILD_EXCLUSIVE_CONFIG");
    const bool need_new_dkms = !bec.empty() && bec != "0";
    h.addsubstvar(pkg, "misc:Depends", std::string(kRuntimeDep) + " | dkms",
                  need_new_dkms ? ">= 3.0.3-4~" : ">= 2.1.0.0");
    const dh::Tokens tk{{"MODULE_NAME", *rep.name}, {"MODULE_VERSION", *rep.version}};
    h.autoscript(pkg, "prerm", "prerm-dkms", tk);
    h.autoscript(pkg, "postinst", "postinst-dkms", tk);
    h.install_file(source, dest / "dkms.conf", fs::perms(0644));
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Cli cli = parse(argc, argv);
        StdReporter rep;
        rep.set_verbose(cli.dh.verbose);
        dh::Helper h("dh_dkms", DKMS_RUN_VERSION, cli.dh, rep);
        for (const auto& w : h.selection_warnings()) message("warning", w);
        std::vector<std::string> names;  // the packages acted on that ship a dkms.conf (not dh's -a call for tools)
        for (const auto& p : h.dopackages())
            if (find_conf(h, cli, p.name)) names.push_back(p.name);
        if (!names.empty() && !cli.dh.quiet)
            for (const auto& f : lint::lint_debian(".", names))
                if (f.severity == lint::Severity::Warning) message("warning", lint::describe(f));
        bool ok = true;
        for (const auto& p : h.dopackages()) ok = do_package(h, cli, p.name) && ok;
        if (!ok) throw Error(ExitCode::Error, "dkms.conf checks failed (see " DH_DKMS_CHECKS_DOC " or dh_dkms(1))");
        h.write_log();
        return 0;
    } catch (const po::error& e) {
        std::cerr << e.what() << "\n";
        message("error", "unknown option or error during option parsing; aborting");
    } catch (const Error& e) {
        for (const auto& l : e.lines()) message("error", l);
    } catch (const std::exception& e) {
        message("error", e.what());
    }
    return 255;
}
