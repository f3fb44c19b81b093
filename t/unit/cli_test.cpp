// SPDX-License-Identifier: GPL-2.0-or-later
// The command line (runtime/options.cpp): Boost.Program_options is told only of the options argv's
// words may name, and must read every command line as it does when told of all of them.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "../../runtime/cli.hpp"
#include "support.hpp"

using namespace dkms;
using namespace dkms::cli;
using dkms::test::CaptureReporter;

namespace {

std::string opt(const std::optional<std::string>& v) { return v ? "'" + *v + "'" : "-"; }
std::string opt(const std::optional<fs::path>& v) { return v ? "'" + v->string() + "'" : "-"; }

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (auto& w : v) s += "'" + w + "' ";
    return s;
}

/// Everything parse_command_line may set or say, one field a line: the result to compare.
std::string read(const std::vector<std::string>& args, bool every_option) {
    std::vector<std::string> words{"dkms-run"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    CaptureReporter rep;
    Context ctx{Settings{}, rep};
    Invocation inv{.ctx = ctx};
    CommandLine c{.inv = inv};
    std::ostringstream s;
    try {
        parse_command_line(int(words.size()), argv.data(), c, every_option);
    } catch (const ShowUsage& e) {
        s << "usage error " << int(e.code()) << ": " << e.what() << "\n";
    } catch (const Error& e) {
        s << "error " << int(e.code()) << ": " << e.what() << "\n";
    }
    const Settings& st = ctx.settings;
    s << "action '" << inv.action << "' module '" << inv.module << "' version '" << inv.version << "'\n"
      << "source " << opt(inv.source_path) << " archive " << opt(inv.archive) << " template "
      << opt(inv.template_kernel) << " output " << opt(inv.output_dir) << "\n"
      << "sign " << opt(inv.sign_key) << " " << opt(inv.sign_cert) << " json " << inv.json << " binaries "
      << inv.binaries_only << " source-only " << inv.source_only << " extra " << join(inv.extra_args) << "\n"
      << "kernels " << join(c.kernels) << "arches " << join(c.arches) << "\n"
      << "root " << opt(c.root) << " trees " << opt(c.dkms_tree) << " " << opt(c.source_tree) << " "
      << opt(c.install_tree) << " word '" << c.module_word << "' quiet " << c.quiet << " help " << c.help
      << " version " << c.version << "\n"
      << "all " << st.all << " force " << st.force << " fvo " << st.force_version_override << " ksrc "
      << opt(st.kernel_source_dir) << " config " << opt(st.kernel_config) << " conf " << opt(st.conf_override)
      << " directives " << join(st.directives) << " symlink " << st.symlink_modules << " jobs " << st.jobs
      << "/" << st.jobs_given << " no-depmod " << st.no_depmod << " modprobe " << st.modprobe_on_install
      << " verbose " << st.verbose << "\n";
    for (auto& l : rep.out_lines) s << "out: " << l << "\n";
    for (auto& l : rep.err_lines) s << "err: " << l << "\n";
    return s.str();
}

}  // namespace

TEST_CASE("no two options share a name", "[cli]") {
    std::vector<std::string> keys = option_keys();
    std::set<std::string> unique(keys.begin(), keys.end());
    CHECK(unique.size() == keys.size());
    CHECK(keys.size() > 30);
}

TEST_CASE("a command line reads the same when Boost is told only of the options it may name", "[cli]") {
    const std::vector<std::vector<std::string>> lines = {
        {"--version"},
        {"--root", "/r", "--version"},
        {"--root=/r", "status"},
        {"install", "-m", "foo", "-v", "1.0", "-k", "6.1.0-1-amd64", "--no-depmod"},
        {"install", "foo/1.0", "-k", "6.1.0-1-amd64/x86_64", "-k", "6.2", "-a", "arm64"},
        {"build", "foo/1.0", "-j", "4", "--force", "--verbose", "--directive", "MAKE[0]=make"},
        {"build", "foo/1.0", "-j", "four"},
        {"build", "foo/1.0", "-j4"},
        {"build", "foo/1.0", "-qj", "4"},
        {"status", "--json"},
        {"status", "--js"},
        {"--ver"},                        // ambiguous: --verbose and --version
        {"--vers"},                       // --version, guessed
        {"--verb", "status"},             // --verbose, guessed
        {"--no-"},                        // ambiguous among --no-depmod, --no-initrd, ...
        {"--nosuch"},                     // unknown
        {"-x"},                           // unknown short
        {"--root"},                       // a value missing
        {"--root", "--force", "status"},  // a value that is an option
        {"--root", "--nosuch", "status"}, // a value that looks like an option, and is none
        {"--directive", "-k"},
        {"--", "status", "--force"},
        {"-", "status"},
        {"--=x"},
        {"status", "--all", "--quiet"},
        {"mktarball", "foo/1.0", "--archive", "a.tar.gz", "--binaries-only", "--source-only"},
        {"mkbmdeb", "foo/1.0", "--output-dir", "/o", "--mok-signing-key", "k", "--mok-certificate", "c"},
        {"match", "--templatekernel", "6.1", "-k", "6.2"},
        {"remove", "foo/1.0", "--all", "--rpm_safe_upgrade", "--no-initrd", "--no-clean-kernel",
         "--no-prepare-kernel", "--debug"},
        {"add", "-c", "/x/dkms.conf", "--config", "/boot/config", "--kernelsourcedir", "/k", "foo/1.0"},
        {"install", "--dkmstree", "/t", "--sourcetree", "/s", "--installtree", "/i", "--symlink-modules",
         "--modprobe-on-install", "--force-version-override", "foo/1.0"},
        {"-h"},
        {"install", "--help"},
        {"--help", "--version"},
        {"-V", "--nosuch"},
        {"--kernelver", "6.1", "--arch", "x86_64", "--module", "foo", "-v", "2"},
        {"--kern", "6.1", "--mod", "foo"},
        {"lint", "--json", "a", "b"},
        {"install", "foo/1.0", "bar/2.0"},
        {"install", "add"},
        {"--quiet=1"},
        {"--force=yes"},
        {"-k"},
        {"---root", "/r"},
        {"--ROOT", "/r"},
    };
    for (auto& args : lines) {
        INFO(join(args));
        std::string every = read(args, true);
        CHECK(read(args, false) == every);
    }
    // The comparison is of something: the lines above are read differently from each other.
    CHECK(read({"--ver"}, true) != read({"--vers"}, true));
    CHECK(read({"--ver"}, true).starts_with("usage error"));
}
