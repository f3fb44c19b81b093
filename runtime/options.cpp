// SPDX-License-Identifier: GPL-2.0-or-later
// dkms's command line: the options of every action (each action declares its own in its file), how
// argv is read (actions and options in any order), and --help as Boost.Program_options prints it.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdint>
#include <sstream>
#include <stdexcept>

#include "cli.hpp"

namespace po = boost::program_options;

namespace dkms::cli {

namespace {

void set_module(CommandLine& c, const std::string& v) {
    auto slash = v.find('/');
    c.inv.module = v.substr(0, slash);
    if (slash != std::string::npos) c.inv.version = v.substr(slash + 1);
}

void add_kernel(CommandLine& c, const std::string& v) {
    auto slash = v.find('/');
    c.kernels.push_back(v.substr(0, slash));
    if (slash != std::string::npos) c.arches.push_back(v.substr(slash + 1));
}

void set_jobs(CommandLine& c, const std::string& v) {
    try {
        c.inv.ctx.settings.jobs = std::stoi(v);
    } catch (const std::logic_error&) {  // invalid_argument, out_of_range
        throw Error(ExitCode::Usage, "-j needs a number, not '" + v + "'.");
    }
    c.inv.ctx.settings.jobs_given = true;
}

Settings& settings(CommandLine& c) { return c.inv.ctx.settings; }

void deprecated(CommandLine& c, const std::string& option) {
    c.inv.ctx.report.err("Deprecated feature: " + option);
}

// In the order of --help.
const Option general_options[] = {
    {.name = "module,m", .value = "module[/version]", .help = "the module (and its version)", .apply = set_module},
    {.name = ",v", .value = "version", .help = "the module's version",
     .apply = [](CommandLine& c, const std::string& v) { c.inv.version = v; }},
    {.name = "kernelver,k", .value = "kernel[/arch]",
     .help = "a kernel to act on (repeatable; default: the running one)", .apply = add_kernel},
    {.name = "arch,a", .value = "arch", .help = "the architecture (default: the machine's; one per -k when several)",
     .apply = [](CommandLine& c, const std::string& v) { c.arches.push_back(v); }},
    {.name = "all", .help = "every kernel the module is built for (uninstall, unbuild, remove, mktarball, mkbmdeb)",
     .apply = [](CommandLine& c, const std::string&) { settings(c).all = true; }},
    {.name = "force", .help = "rebuild, reinstall or replace what is already there",
     .apply = [](CommandLine& c, const std::string&) { settings(c).force = true; }},
    {.name = "force-version-override", .help = "install even if the kernel's own module has a higher version",
     .apply = [](CommandLine& c, const std::string&) { settings(c).force_version_override = true; }},
    {.name = "kernelsourcedir", .value = "dir", .help = "the kernel headers to build against, for every kernel",
     .apply = [](CommandLine& c, const std::string& v) { settings(c).kernel_source_dir = v; }},
    {.name = "config", .value = "file", .help = "the kernel's .config (default: the one of its headers)",
     .apply = [](CommandLine& c, const std::string& v) { settings(c).kernel_config = fs::absolute(v); }},
    {.name = ",c", .value = "dkms.conf", .help = "this dkms.conf instead of the one of the source",
     .apply = [](CommandLine& c, const std::string& v) { settings(c).conf_override = fs::absolute(v); }},
    {.name = "directive", .value = "NAME=value", .help = "set a dkms.conf directive after reading it (repeatable)",
     .apply = [](CommandLine& c, const std::string& v) { settings(c).directives.push_back(v); }},
    {.name = "dkmstree", .value = "dir", .help = "the dkms tree (default: /var/lib/dkms)",
     .apply = [](CommandLine& c, const std::string& v) { c.dkms_tree = v; }},
    {.name = "sourcetree", .value = "dir", .help = "where module sources are (default: /usr/src)",
     .apply = [](CommandLine& c, const std::string& v) { c.source_tree = v; }},
    {.name = "installtree", .value = "dir", .help = "the kernels' module trees (default: /lib/modules)",
     .apply = [](CommandLine& c, const std::string& v) { c.install_tree = v; }},
    {.name = "root", .value = "dir", .help = "take every path (trees, /etc/dkms, /boot) below dir",
     .apply = [](CommandLine& c, const std::string& v) { c.root = v; }},
    {.name = "symlink-modules", .help = "install symlinks into the dkms tree instead of copies",
     .apply = [](CommandLine& c, const std::string&) { settings(c).symlink_modules = true; }},
    {.name = ",j", .value = "jobs", .help = "parallel make jobs (default: parallel_jobs, else the CPUs)",
     .apply = set_jobs},
    {.name = "no-depmod", .help = "do not run depmod after install or uninstall",
     .apply = [](CommandLine& c, const std::string&) { settings(c).no_depmod = true; }},
    {.name = "modprobe-on-install", .help = "after install, load the modules for the devices present",
     .apply = [](CommandLine& c, const std::string&) { settings(c).modprobe_on_install = true; }},
    {.name = "verbose", .help = "print the commands that are run",
     .apply = [](CommandLine& c, const std::string&) { settings(c).verbose = true; }},
    {.name = "quiet,q", .help = "print nothing", .apply = [](CommandLine& c, const std::string&) { c.quiet = true; }},
    {.name = "version,V", .help = "print the version and exit",
     .apply = [](CommandLine& c, const std::string&) { c.version = true; }},
    {.name = "help,h", .help = "print this help (with an action: the action's) and exit",
     .apply = [](CommandLine& c, const std::string&) { c.help = true; }},
};

// dkms's options that do nothing here: accepted, so that dkms's command lines keep working.
const Option ignored_options[] = {
    {.name = "rpm_safe_upgrade", .help = "no effect", .apply = [](CommandLine&, const std::string&) {}},
    {.name = "no-initrd", .help = "no effect (a notice)",
     .apply = [](CommandLine& c, const std::string&) { deprecated(c, "--no-initrd"); }},
    {.name = "no-clean-kernel", .help = "no effect (a notice)",
     .apply = [](CommandLine& c, const std::string&) { deprecated(c, "--no-clean-kernel"); }},
    {.name = "no-prepare-kernel", .help = "no effect (a notice)",
     .apply = [](CommandLine& c, const std::string&) { deprecated(c, "--no-prepare-kernel"); }},
    {.name = "debug", .help = "no effect", .apply = [](CommandLine&, const std::string&) {}},
};

/// Boost's key of an option: its long name, or "-x" for a short-only one.
std::string key_of(const Option& o) {
    std::string name = o.name;
    auto comma = name.find(',');
    if (comma == 0) return "-" + name.substr(1);
    return name.substr(0, comma);
}

void describe(po::options_description& d, const Option& o) {
    if (o.value)
        d.add_options()(o.name, po::value<std::string>()->value_name(o.value), o.help);
    else
        d.add_options()(o.name, po::bool_switch(), o.help);
}

/// The actions' own options, grouped by the actions that share them, in the order of the table; each
/// group named by its actions (", " between them) when `with_names`. Reading the command line needs
/// only the order, and skips the names: with them (in a map of strings), this was the busiest of
/// dkms-run's own functions in `perf record` of `status` (0.7% of the samples, a few microseconds).
std::vector<std::pair<std::string, std::vector<const Option*>>> action_option_groups(bool with_names = true) {
    const auto& cmds = commands();
    if (cmds.size() > 64) throw std::logic_error("more than 64 commands: the owners' bit set is too small");
    std::vector<std::pair<const Option*, std::uint64_t>> owners;  // in the order of the table
    for (size_t i = 0; i < cmds.size(); ++i)
        for (auto* o : cmds[i]->options) {
            auto it = std::find_if(owners.begin(), owners.end(), [&](auto& e) { return e.first == o; });
            if (it == owners.end()) it = owners.insert(owners.end(), {o, 0});
            it->second |= std::uint64_t(1) << i;
        }
    std::vector<std::pair<std::uint64_t, std::vector<const Option*>>> by_owners;
    for (auto& owner : owners) {  // (not a structured binding: clang 14 cannot capture one)
        std::uint64_t mask = owner.second;
        auto it = std::find_if(by_owners.begin(), by_owners.end(), [&](auto& g) { return g.first == mask; });
        if (it == by_owners.end()) it = by_owners.insert(by_owners.end(), {mask, {}});
        it->second.push_back(owner.first);
    }
    std::vector<std::pair<std::string, std::vector<const Option*>>> groups;
    for (auto& [mask, options] : by_owners) {
        std::string names;
        for (size_t i = 0; with_names && i < cmds.size(); ++i)
            if (mask & (std::uint64_t(1) << i)) names += (names.empty() ? "" : ", ") + std::string(cmds[i]->name);
        groups.push_back({names, options});
    }
    return groups;
}

/// Every option of the command line, each once, in the order of --help: the general ones, the actions'
/// own, then the ignored ones.
const std::vector<const Option*>& every_option_list() {
    static const std::vector<const Option*> all = [] {
        std::vector<const Option*> v;
        for (auto& o : general_options) v.push_back(&o);
        for (auto& g : action_option_groups(false))
            for (auto* o : g.second) v.push_back(o);
        for (auto& o : ignored_options) v.push_back(&o);
        return v;
    }();
    return all;
}

/// Whether a word of argv may name `o` for Boost: a long name that starts with a word's name after
/// "--" or "-" (allow_guessing takes any prefix: --ver is --verbose or --version), or a short letter
/// that is in a word after "-". Every option a word may name is so described, and so Boost's answer
/// (the option, an ambiguity, an unknown option, a value that is an option) is the one it gives with
/// every option described; only faster (issue 20: describing all of them was a fifth of start-up).
bool may_be_named(const Option& o, const std::vector<std::string_view>& words) {
    std::string_view name = o.name;
    auto comma = name.find(',');
    std::string_view long_name = name.substr(0, comma);
    char short_name = comma == std::string_view::npos ? 0 : name[comma + 1];
    for (std::string_view w : words) {
        std::string_view given = w.substr(w.starts_with("--") ? 2 : 1);
        given = given.substr(0, given.find('='));
        if (!long_name.empty() && long_name.starts_with(given)) return true;
        if (short_name && !w.starts_with("--") && w.substr(1).find(short_name) != std::string_view::npos) return true;
    }
    return false;
}

/// What Boost is told: the options argv may name (every one with `every`), and the positional words.
po::options_description parser_description(int argc, char** argv, bool every) {
    std::vector<std::string_view> words;
    for (int i = 1; i < argc; ++i)
        if (argv[i][0] == '-') words.emplace_back(argv[i]);
    po::options_description d;
    for (const Option* o : every_option_list())
        if (every || may_be_named(*o, words)) describe(d, *o);
    d.add_options()("args", po::value<std::vector<std::string>>());
    return d;
}

/// The option of Boost's key (its long name, or "-x").
const Option& option_by_key(const std::string& key) {
    for (const Option* o : every_option_list())
        if (key_of(*o) == key) return *o;
    throw std::logic_error("no option " + key);
}

bool is_kernel_action_word(const std::string& w) {
    // A word of dkms's kernel_* actions (kernel_postinst, ...) is an action even when it is not ours.
    auto lower = [](char ch) { return ch == '_' || (ch >= 'a' && ch <= 'z'); };
    return w.starts_with("kernel_") && std::all_of(w.begin(), w.end(), lower);
}

/// A word that is not an option, by dkms's rules (and dkms-run's source directories and archives).
void take_word(CommandLine& c, const std::string& word) {
    Invocation& inv = c.inv;
    std::error_code ec;  // a word too long for a path (ENAMETOOLONG) is just not a file here
    if (find_command(word) || (inv.action.empty() && is_kernel_action_word(word))) {
        if (!inv.action.empty()) throw Error(ExitCode::ConfMissing, "Cannot specify more than one action.");
        inv.action = word;
    } else if (inv.action == "lint") {
        inv.extra_args.push_back(word);
    } else if (word.ends_with("dkms.conf") && fs::exists(fs::symlink_status(word, ec))) {
        inv.source_path = fs::absolute(word);
    } else if (fs::is_directory(word, ec) && fs::exists(fs::symlink_status(fs::path(word) / "dkms.conf", ec))) {
        // A source directory (add_path says what is wrong with a dkms.conf that is no regular file). A
        // directory without one is module/version, as for dkms: "/dir" is module "" and version "dir",
        // and the command says the arguments are missing.
        inv.source_path = fs::absolute(word);
    } else if (!inv.archive && (fs::is_regular_file(word, ec) || inv.action == "ldtarball")) {
        // An archive, as dkms takes any other existing file; ldtarball's argument is one even when it
        // does not exist (load_tarball then says so).
        inv.archive = word;
    } else if (inv.module.empty()) {
        c.module_word = word;
        set_module(c, word);
    } else {
        inv.ctx.report.err("Warning: I do not know how to handle " + word + ".");
    }
}

constexpr unsigned kHelpColumns = 100;

// Boost's text, line by line, without its trailing blanks and final empty lines.
void print_lines(Reporter& r, const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l.substr(0, l.find_last_not_of(' ') + 1));
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    for (auto& l : lines) r.out(l);
}

}  // namespace

std::vector<std::string> option_keys() {
    std::vector<std::string> keys;
    for (const Option* o : every_option_list()) keys.push_back(key_of(*o));
    return keys;
}

void parse_command_line(int argc, char** argv, CommandLine& c, bool describe_every_option) {
    namespace style = po::command_line_style;
    auto desc = parser_description(argc, argv, describe_every_option);
    po::positional_options_description pos;
    pos.add("args", -1);
    po::parsed_options parsed(&desc);
    try {
        parsed = po::command_line_parser(argc, argv).options(desc).positional(pos)
                     .style(style::allow_long | style::long_allow_adjacent | style::long_allow_next |
                            style::allow_short | style::short_allow_next | style::allow_dash_for_short |
                            style::allow_guessing)
                     .run();
    } catch (const po::unknown_option& e) {
        throw ShowUsage(ExitCode::Usage, "Unknown option: " + e.get_option_name());
    } catch (const po::error& e) {
        throw ShowUsage(ExitCode::Usage, e.what());
    }
    for (auto& o : parsed.options) {
        if (o.string_key == "args") {
            for (auto& word : o.value) take_word(c, word);
            continue;
        }
        option_by_key(o.string_key).apply(c, o.value.empty() ? "" : o.value.front());
        if (c.version) return;  // printed at once, whatever follows
    }
    // ldtarball of a path that does not exist: dkms takes it as module/version and names nothing;
    // here it stays the archive, which load_tarball then says does not exist.
    if (c.inv.action == "ldtarball" && !c.inv.archive && !c.module_word.empty()) {
        c.inv.archive = c.module_word;
        c.inv.module.clear();
        c.inv.version.clear();
    }
}

void print_usage(Reporter& r) {
    r.out("Usage: dkms-run [action] [options] [module/version | source-dir | dkms.conf]");
    r.out("  [action]  = one of the actions below (dkms's, and dkms-run's own: postinst, lint)");
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
    // One description of groups, so that Boost aligns the help texts of every group alike.
    po::options_description all(kHelpColumns, kHelpColumns / 2);
    po::options_description general("Options", kHelpColumns, kHelpColumns / 2);
    for (auto& o : general_options) describe(general, o);
    all.add(general);
    for (auto& [owners, options] : action_option_groups()) {
        po::options_description own("Options of " + owners, kHelpColumns, kHelpColumns / 2);
        for (auto* o : options) describe(own, *o);
        all.add(own);
    }
    po::options_description ignored("Accepted for dkms's command lines, without effect", kHelpColumns,
                                    kHelpColumns / 2);
    for (auto& o : ignored_options) describe(ignored, o);
    all.add(ignored);
    std::ostringstream text;
    text << all;  // Boost starts each group with an empty line
    print_lines(r, text.str());
}

void print_command_help(Reporter& r, const Command& cmd) {
    r.out(std::string("Usage: dkms-run ") + cmd.usage);
    r.out(std::string("  ") + cmd.summary);
    if (!cmd.options.empty()) {
        po::options_description own("Options of " + std::string(cmd.name), kHelpColumns, kHelpColumns / 2);
        for (auto* o : cmd.options) describe(own, *o);
        std::ostringstream text;
        text << "\n" << own;
        print_lines(r, text.str());
        r.out("");
    }
    r.out("Run 'dkms-run --help' for the options of every action.");
}

}  // namespace dkms::cli
