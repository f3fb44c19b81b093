// SPDX-License-Identifier: GPL-2.0-or-later
// Evaluating dkms.conf / framework.conf with one bash process, the way dkms's safe_source does.
//
// Shape of the generated script (NAMES are the whitelist, baked in literally, never eval'ed):
//
//   exec 3>&1 >/dev/null                 fd 3 = our pipe; everything else goes nowhere
//   <presets as plain shell variables>
//   unset -v NAMES...
//   for each file "$@" that exists:
//     carry=$( subshell: close fd 3, stdout -> /dev/null, fd 4 -> the substitution;
//              set --; source FILE;
//              POSIXLY_CORRECT=1 (special builtins now win over functions);
//              reset traps/options/IFS; unset every function;
//              LC_ALL=C; print `NAME[i]=%q` for every index of every NAME (one "\r" stripped)
//              and an end marker to fd 4 )
//     complete carry -> eval it (so the next file sees the whitelisted values only)
//   print NAME NUL index NUL value NUL for every index of every NAME on fd 3
//
// Only the parent shell, which never sources anything itself, produces the final stream.
#include <charconv>
#include <fstream>
#include <iterator>
#include <set>

#include "dkms/error.hpp"
#include "dkms/process.hpp"
#include "dkms/raw_conf.hpp"

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
constexpr std::string_view kEndMarker = "__dkms_carry_end__";

std::string build_script(const ShellPresets& presets, const std::vector<std::string>& whitelist) {
    std::string s;
    s += "exec 3>&1 >/dev/null\n";
    for (auto& [name, value] : presets) s += name + "=" + shell_quote(value) + "\n";
    std::string names;
    for (auto& n : whitelist) names += " " + n;
    if (!whitelist.empty()) s += "unset -v" + names + "\n";

    // Everything below is one compound command, parsed before any file runs, so that
    // aliases or parser options a file sets cannot change it.
    s += "{\n";
    s += "for __dkms_f in \"$@\"; do\n";
    s += "  [[ -e $__dkms_f ]] || continue\n";
    s += "  __dkms_c=$(\n";
    s += "    exec 3>&- 4>&1 >/dev/null\n";
    s += "    set --\n";
    s += "    source \"$__dkms_f\"\n";
    // From here on the file's code has run: trust nothing it may have redefined.
    s += "    POSIXLY_CORRECT=1\n";
    s += "    unset -f builtin command\n";
    s += "    trap - EXIT ERR DEBUG RETURN\n";
    s += "    set +e +u +o pipefail -f\n";
    s += "    IFS=$' \\t\\n'\n";
    s += "    __dkms_fn=$(builtin compgen -A function)\n";
    s += "    [[ -n $__dkms_fn ]] && unset -f $__dkms_fn\n";
    s += "    LC_ALL=C\n";
    s += "    __dkms_cr=$'\\r'\n";
    for (auto& n : whitelist) {
        s += "    for __dkms_i in \"${!" + n + "[@]}\"; do [[ $__dkms_i =~ ^[0-9]+$ ]] && "
             "builtin printf '%s[%s]=%q\\n' " + n + " \"$__dkms_i\" \"${" + n +
             "[$__dkms_i]%\"$__dkms_cr\"}\" >&4; done\n";
    }
    s += "    builtin printf '%s' " + std::string(kEndMarker) + " >&4\n";
    s += "  )\n";
    s += "  [[ $__dkms_c == *" + std::string(kEndMarker) + " ]] && eval \"${__dkms_c%" +
         std::string(kEndMarker) + "}\"\n";
    s += "done\n";
    s += "LC_ALL=C\n";
    for (auto& n : whitelist) {
        s += "for __dkms_i in \"${!" + n + "[@]}\"; do builtin printf '%s\\0%s\\0%s\\0' " + n +
             " \"$__dkms_i\" \"${" + n + "[$__dkms_i]}\" >&3; done\n";
    }
    s += "exit 0\n";
    s += "}\n";
    return s;
}

[[noreturn]] void malformed(const std::string& why) {
    throw Error(ExitCode::BadConf, "Could not read the output of bash while evaluating the configuration: " + why);
}

RawVars parse_stream(const std::string& out, const std::set<std::string>& allowed) {
    RawVars vars;
    std::size_t pos = 0;
    auto field = [&](const char* what) {
        auto nul = out.find('\0', pos);
        if (nul == std::string::npos) malformed(std::string("truncated record (") + what + ")");
        std::string f = out.substr(pos, nul - pos);
        pos = nul + 1;
        return f;
    };
    while (pos < out.size()) {
        std::string name = field("name");
        std::string idx = field("index");
        std::string value = field("value");
        if (!allowed.count(name)) malformed("unexpected variable name '" + name + "'");
        std::size_t index = 0;
        auto [p, ec] = std::from_chars(idx.data(), idx.data() + idx.size(), index);
        if (idx.empty() || ec != std::errc() || p != idx.data() + idx.size())
            malformed("bad array index '" + idx + "' for " + name);
        if (!vars[name].emplace(index, std::move(value)).second)
            malformed("duplicate value for " + name + "[" + idx + "]");
    }
    return vars;
}

}  // namespace

RawVars evaluate_shell(const std::vector<std::filesystem::path>& files, const ShellPresets& presets,
                       const std::vector<std::string>& whitelist) {
    for (auto& n : whitelist)
        if (!is_identifier(n) || std::string_view(n).substr(0, kHelperPrefix.size()) == kHelperPrefix)
            throw Error(ExitCode::Error, "internal error: bad configuration variable name '" + n + "'");
    for (auto& [n, v] : presets)
        if (!is_identifier(n) || std::string_view(n).substr(0, kHelperPrefix.size()) == kHelperPrefix)
            throw Error(ExitCode::Error, "internal error: bad shell variable name '" + n + "'");

    ProcessSpec spec;
    spec.argv = {"bash", "--norc", "--noprofile", "-c", build_script(presets, whitelist), "bash"};
    for (auto& f : files) {
        std::string p = f.string();
        if (p.empty()) continue;
        // `source NAME` without a slash would search PATH first.
        if (p.find('/') == std::string::npos) p = "./" + p;
        spec.argv.push_back(std::move(p));
    }
    // dkms unsets the compiler variables; the others would let the environment inject
    // code or options into the shell before our script runs.
    spec.unset_env = {"CC", "CXX", "CFLAGS", "CXXFLAGS", "LDFLAGS",
                      "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "POSIXLY_CORRECT"};
    spec.out = ProcessSpec::Out::Capture;
    spec.err = ProcessSpec::Out::Inherit;

    ProcessResult r = run_process(spec);
    if (r.status != 0) malformed("bash exited with status " + std::to_string(r.status));
    std::set<std::string> allowed(whitelist.begin(), whitelist.end());
    return parse_stream(r.out, allowed);
}

}  // namespace dkms

namespace dkms {

RawVars evaluate_config(const std::vector<std::filesystem::path>& files, const ShellPresets& presets,
                        const std::vector<std::string>& whitelist) {
    // Each file is read the way evaluate_shell runs it: on its own (a quote left open does not
    // run into the next file), seeing the whitelisted values carried from the files before it,
    // and what it leaves in the whitelisted variables is merged element by element into them
    // (bash's carry never unsets: `NAME=()` in a later file keeps what an earlier one set).
    RawVars out;
    for (auto& f : files) {
        std::error_code ec;
        if (!std::filesystem::exists(f, ec)) continue;   // evaluate_shell skips missing files too
        std::ifstream in(f, std::ios::binary);
        if (!in || !std::filesystem::is_regular_file(f, ec)) return evaluate_shell(files, presets, whitelist);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (in.bad()) return evaluate_shell(files, presets, whitelist);
        // No expansion, command substitution, escape or CR outside comment lines. The whole text
        // is read below, so a line starting with '#' inside a quoted value stays part of the value.
        for (std::size_t pos = 0; pos < text.size();) {
            std::size_t nl = text.find('\n', pos);
            std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
            pos = nl == std::string::npos ? text.size() : nl + 1;
            std::size_t first = line.find_first_not_of(" \t");
            if (first == std::string_view::npos || line[first] == '#') continue;
            if (line.find_first_of("$`\r\\") != std::string_view::npos)
                return evaluate_shell(files, presets, whitelist);
        }
        std::string carried;
        for (auto& [name, idxs] : out)
            for (auto& [i, v] : idxs) carried += name + "[" + std::to_string(i) + "]=" + shell_quote(v) + "\n";
        DeclConf d = read_declarative(carried + text, presets);
        if (!d.plain()) return evaluate_shell(files, presets, whitelist);
        for (auto& name : whitelist)
            if (auto it = d.vars.find(name); it != d.vars.end())
                for (auto& [i, v] : it->second) out[name][i] = v;
    }
    return out;
}

}  // namespace dkms
