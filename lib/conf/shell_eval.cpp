// SPDX-License-Identifier: GPL-2.0-or-later
// Evaluating dkms.conf / framework.conf with bash, the way dkms's safe_source does.
//
// Each file is checked first (a regular file, at most max_config_bytes, no NUL byte), then sourced
// by a bash process of its own, so that nothing a file does (functions, aliases, traps, options,
// code written to any file descriptor) can reach the evaluation of the next file. Shape of the
// generated script (NAMES are the whitelist, baked in literally, never eval'ed):
//
//   exec 3>&1 >/dev/null                 fd 3 = our pipe; the file's stdout goes nowhere
//   <presets as plain shell variables>
//   unset -v NAMES...
//   <the whitelisted values of the files before, as quoted assignments NAME[i]='...'>
//   source FILE; rc=$?
//   POSIXLY_CORRECT=1 (special builtins now win over functions);
//   reset traps/options/IFS; unset every function; LC_ALL=C
//   print NAME NUL index NUL value NUL for every index of every NAME on fd 3 (one "\r" stripped),
//   then the end record __dkms_end NUL rc NUL NUL
//
// The file runs with fd 3 open and can write anything to it: the output is parsed strictly here
// (whitelisted names, numeric indexes, each value once, the end record last), so what it could forge
// is only what it could have assigned anyway. Nothing it prints is ever run as code.
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>

#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/process.hpp"
#include "dkms/conf/raw_conf.hpp"

namespace dkms {

namespace {

bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!alpha(s[0])) return false;
    for (char c : s)
        if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

// Names of our own helper variables in the generated script. The whitelist must not use them.
constexpr std::string_view kHelperPrefix = "__dkms_";
constexpr std::string_view kEndRecord = "__dkms_end";

std::string build_script(const ShellPresets& presets, const std::vector<std::string>& whitelist,
                         const RawVars& carry) {
    std::string s;
    s += "exec 3>&1 >/dev/null\n";
    for (auto& [name, value] : presets) s += name + "=" + shell_quote(value) + "\n";
    std::string names;
    for (auto& n : whitelist) names += " " + n;
    if (!whitelist.empty()) s += "unset -v" + names + "\n";
    for (auto& [name, values] : carry)
        for (auto& [i, v] : values) s += name + "[" + std::to_string(i) + "]=" + shell_quote(v) + "\n";

    // Everything below is one compound command, parsed before the file runs, so that aliases or
    // parser options it sets cannot change it.
    s += "{\n";
    s += "__dkms_f=$1\n";
    s += "set --\n";
    s += "source \"$__dkms_f\"\n";
    s += "__dkms_rc=$?\n";
    // From here on the file's code has run: trust nothing it may have redefined.
    s += "POSIXLY_CORRECT=1\n";
    s += "unset -f builtin command\n";
    s += "trap - EXIT ERR DEBUG RETURN\n";
    s += "set +e +u +o pipefail -f\n";
    s += "IFS=$' \\t\\n'\n";
    s += "__dkms_fn=$(builtin compgen -A function)\n";
    s += "[[ -n $__dkms_fn ]] && unset -f $__dkms_fn\n";
    s += "LC_ALL=C\n";
    s += "__dkms_cr=$'\\r'\n";
    for (auto& n : whitelist) {
        s += "for __dkms_i in \"${!" + n + "[@]}\"; do [[ $__dkms_i =~ ^[0-9]+$ ]] && "
             "builtin printf '%s\\0%s\\0%s\\0' " + n + " \"$__dkms_i\" \"${" + n +
             "[$__dkms_i]%\"$__dkms_cr\"}\" >&3; done\n";
    }
    s += "builtin printf '%s\\0%s\\0\\0' " + std::string(kEndRecord) + " \"$__dkms_rc\" >&3\n";
    s += "exit 0\n";
    s += "}\n";
    return s;
}

struct FileResult {
    RawVars vars;
    bool finished = false;   ///< the end record came: the file ran to its end
    int status = 0;          ///< what `source` returned
};

FileResult parse_stream(const std::filesystem::path& file, const std::string& out, const std::set<std::string>& allowed) {
    auto malformed = [&](const std::string& why) {
        return Error(ExitCode::BadConf, {"Could not read the output of bash while evaluating " + file.string() + ": " +
                                             why + ".",
                                         "Is something in the file writing to file descriptor 3?"});
    };
    FileResult r;
    std::size_t pos = 0;
    auto field = [&](const char* what) {
        auto nul = out.find('\0', pos);
        if (nul == std::string::npos) throw malformed(std::string("truncated record (") + what + ")");
        std::string f = out.substr(pos, nul - pos);
        pos = nul + 1;
        return f;
    };
    while (pos < out.size()) {
        if (r.finished) throw malformed("output after the end record");
        std::string name = field("name");
        std::string idx = field("index");
        std::string value = field("value");
        if (name == kEndRecord) {
            r.finished = true;
            auto [p, ec] = std::from_chars(idx.data(), idx.data() + idx.size(), r.status);
            if (idx.empty() || ec != std::errc() || p != idx.data() + idx.size() || !value.empty())
                throw malformed("bad end record");
            continue;
        }
        if (!allowed.count(name)) throw malformed("unexpected variable name '" + name + "'");
        std::size_t index = 0;
        auto [p, ec] = std::from_chars(idx.data(), idx.data() + idx.size(), index);
        if (idx.empty() || ec != std::errc() || p != idx.data() + idx.size())
            throw malformed("bad array index '" + idx + "' for " + name);
        if (!r.vars[name].emplace(index, std::move(value)).second)
            throw malformed("duplicate value for " + name + "[" + idx + "]");
    }
    return r;
}

// bash -n: the syntax error that stopped `source`, or "" when the file parses.
std::string syntax_error(const std::filesystem::path& file) {
    ProcessSpec spec;
    spec.argv = {"bash", "--norc", "--noprofile", "-n", file.string()};
    spec.unset_env = {"BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "POSIXLY_CORRECT"};
    spec.out = ProcessSpec::Out::Capture;
    spec.err_to_out = true;
    ProcessResult r = run_process(spec);
    if (r.ok()) return "";
    std::string first = r.out.substr(0, r.out.find('\n'));
    return first.empty() ? "bash -n exited with status " + std::to_string(r.status) : first;
}

// dkms unsets the compiler variables; the others would let the environment inject code or
// options into the shell before our script runs.
const std::vector<std::string>& shell_unset_env() {
    static const std::vector<std::string> names = {"CC",  "CXX",      "CFLAGS",   "CXXFLAGS", "LDFLAGS",
                                                   "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "POSIXLY_CORRECT"};
    return names;
}

}  // namespace

bool check_config_file(const std::filesystem::path& file) { return read_config_file(file).has_value(); }

std::optional<std::string> read_config_file(const std::filesystem::path& file) {
    struct stat st{};
    if (stat(file.c_str(), &st) != 0) return std::nullopt;  // missing (or a dangling link): skipped, as [[ -e ]]
    const std::string f = file.string();
    const char* kind = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
                       S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : S_ISSOCK(st.st_mode) ? "a socket" : nullptr;
    if (kind)
        throw Error(ExitCode::BadConf, {f + " is " + kind + ", not a regular file: it cannot be read as configuration.",
                                        "Replace it with the configuration file it should be, or remove it."});
    if (std::uint64_t(st.st_size) > max_config_bytes)
        throw Error(ExitCode::BadConf, {f + " is " + std::to_string(st.st_size) + " bytes; configuration files larger than " +
                                            std::to_string(max_config_bytes / 1024) + " KiB are refused.",
                                        "A dkms.conf is a few kilobytes of bash (the largest one in Debian has 10 KB): "
                                        "is this the right file?"});
    std::string text = read_file(file);
    if (auto nul = text.find('\0'); nul != std::string::npos) {
        long line = 1 + long(std::count(text.begin(), text.begin() + long(nul), '\n'));
        throw Error(ExitCode::BadConf, {f + ": line " + std::to_string(line) + " contains a NUL byte: this is not a text file.",
                                        "Configuration files are bash scripts; bash would silently drop the NUL bytes. "
                                        "Restore the file from its package."});
    }
    return text;
}

RawVars evaluate_shell(const std::vector<std::filesystem::path>& files, const ShellPresets& presets,
                       const std::vector<std::string>& whitelist, std::vector<std::string>* notes) {
    for (auto& n : whitelist)
        if (!is_identifier(n) || std::string_view(n).substr(0, kHelperPrefix.size()) == kHelperPrefix)
            throw Error(ExitCode::Error, "internal error: bad configuration variable name '" + n + "'");
    for (auto& [n, v] : presets)
        if (!is_identifier(n) || std::string_view(n).substr(0, kHelperPrefix.size()) == kHelperPrefix)
            throw Error(ExitCode::Error, "internal error: bad shell variable name '" + n + "'");
    std::set<std::string> allowed(whitelist.begin(), whitelist.end());

    RawVars carry;
    for (auto& f : files) {
        std::string p = f.string();
        if (p.empty() || !check_config_file(f)) continue;
        // `source NAME` without a slash would search PATH first.
        if (p.find('/') == std::string::npos) p = "./" + p;
        ProcessSpec spec;
        spec.argv = {"bash", "--norc", "--noprofile", "-c", build_script(presets, whitelist, carry), "bash", p};
        spec.unset_env = shell_unset_env();
        spec.out = ProcessSpec::Out::Capture;
        spec.err = ProcessSpec::Out::Inherit;
        ProcessResult r = run_process(spec);
        FileResult fr = parse_stream(f, r.out, allowed);
        if (!fr.finished) {
            // As with dkms's safe_source: a file that exits (exit, exec, set -e and a failure) gives nothing.
            if (notes)
                notes->push_back(f.string() + " did not run to its end (exit, exec, or a failure under set -e), "
                                              "so none of its settings are used.");
            continue;
        }
        if (r.status != 0) throw Error(ExitCode::BadConf, "bash exited with status " + std::to_string(r.status) +
                                                              " after evaluating " + f.string() + ".");
        if (fr.status == 2) {
            std::string why = syntax_error(f);
            if (!why.empty())
                throw Error(ExitCode::BadConf, {f.string() + " has a shell syntax error; bash stopped reading it there:",
                                                why,
                                                "Fix that line (bash -n " + f.string() + " checks the whole file)."});
        }
        for (auto& [name, values] : fr.vars)
            for (auto& [i, v] : values) carry[name][i] = v;
    }
    return carry;
}

}  // namespace dkms

namespace dkms {

RawVars evaluate_config(const std::vector<std::filesystem::path>& files, const ShellPresets& presets,
                        const std::vector<std::string>& whitelist, std::vector<std::string>* notes) {
    auto shell = [&] { return evaluate_shell(files, presets, whitelist, notes); };
    const auto& unset_env = shell_unset_env();
    // Each file is read the way evaluate_shell runs it: on its own (a quote left open does not
    // run into the next file), seeing the whitelisted values carried from the files before it,
    // and what it leaves in the whitelisted variables is merged element by element into them
    // (bash's carry never unsets: `NAME=()` in a later file keeps what an earlier one set).
    RawVars out;
    for (auto& f : files) {
        // Missing files are skipped; FIFOs, directories, huge or binary files are refused, as
        // evaluate_shell does.
        std::optional<std::string> read = f.empty() ? std::nullopt : read_config_file(f);
        if (!read) continue;
        std::string& text = *read;
        // A backquote is a command; bash strips a CR from values.
        if (text.find_first_of("`\r") != std::string::npos) return shell();
        std::string carried;
        for (auto& [name, idxs] : out)
            for (auto& [i, v] : idxs) carried += name + "[" + std::to_string(i) + "]=" + shell_quote(v) + "\n";
        DeclConf d = read_declarative(carried + text, presets);
        if (!d.plain()) return shell();
        // A name expanded while unset would have come from the environment in bash.
        for (auto& name : d.unset_expanded) {
            bool cleared = std::find(whitelist.begin(), whitelist.end(), name) != whitelist.end() ||
                           std::find(unset_env.begin(), unset_env.end(), name) != unset_env.end();
            if (!cleared && std::getenv(name.c_str()) != nullptr) return shell();
        }
        for (auto& name : whitelist)
            if (auto it = d.vars.find(name); it != d.vars.end())
                for (auto& [i, v] : it->second) out[name][i] = v;
    }
    return out;
}

}  // namespace dkms
