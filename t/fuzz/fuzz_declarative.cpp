// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the declarative dkms.conf reader (read_declarative) and the lint checks built on it.
// Input: the bytes of a dkms.conf. Pure in-memory work, no file system.
// Built with FUZZ_AGAINST_BASH (the fuzz-declarative-bash test, never a fuzzer), a plain file
// must also give the directives evaluate_shell gets from bash itself. A file made only of the
// plainest assignments (obviously_plain, decided here without the reader) must be read, never
// declined: in the bash build when bash reads it without error, in every other build always.
#include <algorithm>
#include <map>
#include <set>

#include "dkms/core/error.hpp"
#include "dkms/lint/lint.hpp"
#include "dkms/conf/raw_conf.hpp"
#include "fuzz_support.hpp"

using namespace dkms;

namespace {

bool identifier(const std::string& s) {
    auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (s.empty() || !start(s[0])) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

// The plainest subset of dkms.conf, recognised line by line without the reader's lexer: blank
// lines, comments, and `NAME=VALUE` or `NAME[i]=VALUE` (NAME a dkms.conf directive, i a decimal
// number without a leading zero) with VALUE a concatenation of unquoted [A-Za-z0-9_./:+,@%=-],
// '...' and "..." (without $, `, \ or !) parts, then blanks and an optional comment. bash reads
// each such line as one assignment; a reader that declines one gives up where it must not.
bool obviously_plain(std::string_view text) {
    static const std::set<std::string> names(dkms_conf_directives().begin(), dkms_conf_directives().end());
    auto unquoted = [](char c) {
        return identifier(std::string(1, c)) || (c >= '0' && c <= '9') ||
               std::string_view("./:+,@%=-").find(c) != std::string_view::npos;
    };
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t nl = text.find('\n', start);
        std::string_view l = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        if (l.find('\r') != std::string_view::npos || l.find('\0') != std::string_view::npos) return false;
        std::size_t i = l.find_first_not_of(" \t");
        if (i == std::string_view::npos || l[i] == '#') continue;
        std::size_t n = i;
        while (n < l.size() && (identifier(std::string(1, l[n])) || (n > i && l[n] >= '0' && l[n] <= '9'))) ++n;
        if (!names.count(std::string(l.substr(i, n - i)))) return false;
        if (n < l.size() && l[n] == '[') {
            std::size_t d = n + 1;
            while (d < l.size() && l[d] >= '0' && l[d] <= '9') ++d;
            if (d == n + 1 || d - (n + 1) > 4 || d >= l.size() || l[d] != ']') return false;
            if (l[n + 1] == '0' && d != n + 2) return false;  // 010 is octal to bash: not the plainest
            n = d + 1;
        }
        if (n >= l.size() || l[n] != '=') return false;
        ++n;
        while (n < l.size() && l[n] != ' ' && l[n] != '\t') {
            if (l[n] == '\'' || l[n] == '"') {
                std::size_t close = l.find(l[n], n + 1);
                if (close == std::string_view::npos) return false;
                std::string_view inside = l.substr(n + 1, close - n - 1);
                if (l[n] == '"' && inside.find_first_of("$`\\!") != std::string_view::npos) return false;
                n = close + 1;
            } else if (unquoted(l[n])) {
                ++n;
            } else {
                return false;
            }
        }
        std::size_t rest = l.find_first_not_of(" \t", n);
        if (rest != std::string_view::npos && l[rest] != '#') return false;
    }
    return true;
}

void check_conf(const DeclConf& d, std::string_view text) {
    int lines = int(std::count(text.begin(), text.end(), '\n')) + 1;
    for (auto& n : d.needs_shell) {
        FUZZ_CHECK(n.line >= 1 && n.line <= lines, "needs_shell line " + std::to_string(n.line) + " of " + n.what);
        FUZZ_CHECK(!n.what.empty(), "needs_shell entry without a description");
        // read_declarative turns an internal exception into this entry: for the fuzzer it is a bug.
        FUZZ_CHECK(n.what.rfind("unreadable: ", 0) != 0, n.what);
    }
    // The last assignment to NAME[i] holds the final value; every final value has one.
    std::map<std::pair<std::string, std::size_t>, const DeclAssignment*> last;
    for (auto& a : d.assignments) {
        FUZZ_CHECK(identifier(a.name), "assignment to '" + a.name + "'");
        FUZZ_CHECK(a.line >= 1 && a.line <= lines, "assignment line " + std::to_string(a.line));
        FUZZ_CHECK(a.indexed || a.index == 0, "scalar assignment with index " + std::to_string(a.index));
        last[{a.name, a.index}] = &a;
    }
    for (auto& [name, idxs] : d.vars) {
        FUZZ_CHECK(identifier(name), "variable '" + name + "'");
        FUZZ_CHECK(!idxs.empty(), "variable " + name + " with no element");
        for (auto& [i, v] : idxs) {
            auto it = last.find({name, i});
            FUZZ_CHECK(it != last.end(), name + "[" + std::to_string(i) + "] set without an assignment");
            FUZZ_CHECK(it->second->value == v, name + "[" + std::to_string(i) + "] differs from its last assignment");
            FUZZ_CHECK(d.line_of(name, i) == it->second->line, "line_of(" + name + ")");
            FUZZ_CHECK(raw_get(d.vars, name, i) == v, "raw_get(" + name + ")");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) return 0;
    std::string_view text = dkms::fuzz::as_text(data, size);

    // As dh_dkms and lint read it (no presets), and as the runtime would with the usual variables.
    DeclConf plain = read_declarative(text);
    check_conf(plain, text);
    const ShellPresets presets = {{"kernelver", "6.1.0-9-amd64"}, {"arch", "x86_64"},
                                  {"kernel_source_dir", "/lib/modules/6.1.0-9-amd64/build"},
                                  {"dkms_tree", "/var/lib/dkms"}, {"source_tree", "/usr/src"},
                                  {"module", "foo"}, {"module_version", "1.0"}};
    DeclConf with = read_declarative(text, presets);
    check_conf(with, text);
    // Presets only change what expansions produce, never whether the file is plain.
    FUZZ_CHECK(plain.plain() == with.plain(), "presets changed whether the file is plain");
    const bool oracle_plain = obviously_plain(text);
    auto declined = [&] {
        std::string o = "read_declarative declined a file of plain assignments:\n";
        for (auto& n : with.needs_shell) o += "  line " + std::to_string(n.line) + ": " + n.what + "\n";
        return o;
    };
#ifndef FUZZ_AGAINST_BASH
    FUZZ_CHECK(!oracle_plain || with.plain(), declined());
#else
    // A file with a NUL byte is refused before either reading (check_config_file).
    if ((with.plain() || oracle_plain) && text.find('\0') == std::string_view::npos) {
        dkms::fuzz::Scratch dir;
        dkms::fuzz::write_bytes(dir.path() / "dkms.conf", text);
        RawVars bash;
        bool bash_read = true;
        if (with.plain()) {
            bash = evaluate_shell({dir.path() / "dkms.conf"}, presets, dkms_conf_directives());
        } else {
            // The reader declined a file that looks plain: bash decides. If bash reads it without
            // an error, the reader gave up where it must not.
            try {
                bash = evaluate_shell({dir.path() / "dkms.conf"}, presets, dkms_conf_directives());
            } catch (const Error&) {
                bash_read = false;
            }
            FUZZ_CHECK(!bash_read, declined());
        }
        RawVars ours;
        for (auto& n : dkms_conf_directives())
            if (auto it = with.vars.find(n); it != with.vars.end()) ours[n] = it->second;
        auto show = [](const RawVars& v) {
            std::string o;
            for (auto& [n, idxs] : v)
                for (auto& [i, x] : idxs) o += "  " + n + "[" + std::to_string(i) + "]=<" + x + ">\n";
            return o;
        };
        if (bash_read) FUZZ_CHECK(ours == bash, "read_declarative:\n" + show(ours) + "bash:\n" + show(bash));
    }
#endif

    lint::ConfInput in;
    in.text = std::string(text);
    in.label = "dkms.conf";
    in.expected_version = "1.0";
    in.expected_version_origin = "debian/changelog";
    in.loose_version = (size & 1) != 0;
    lint::ConfReport r = lint::lint_conf(in);
    std::set<std::string_view> tags;
    for (auto& t : lint::lint_tags()) tags.insert(t.tag);
    int lines = int(std::count(text.begin(), text.end(), '\n')) + 1;
    for (auto& f : r.findings) {
        FUZZ_CHECK(tags.count(f.tag), "finding with an unknown tag '" + f.tag + "'");
        FUZZ_CHECK(f.line >= 0 && f.line <= lines, "finding " + f.tag + " at line " + std::to_string(f.line));
        (void)lint::format_finding(f);
    }
    return 0;
}
