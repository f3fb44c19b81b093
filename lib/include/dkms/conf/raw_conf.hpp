// SPDX-License-Identifier: GPL-2.0-or-later
// Reading dkms.conf and framework.conf: by bash (runtime) and declaratively (dh_dkms, lint).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dkms {

/// Variables read back from a configuration file: name -> index -> value.
/// A scalar assignment `NAME=x` is index 0, exactly as bash treats `NAME` and `NAME[0]`.
/// A name absent from the map was never set (or was unset); a name present with an
/// empty index map cannot happen.
using RawVars = std::map<std::string, std::map<std::size_t, std::string>>;

/// Value of NAME[idx], or "" when unset.
std::string raw_get(const RawVars& v, const std::string& name, std::size_t idx = 0);

/// The upper-case directives a dkms.conf may set (upstream 3.4 whitelist, plus the 3.0.10
/// ones that are only recognised to be warned about). Everything else is discarded.
const std::vector<std::string>& dkms_conf_directives();

/// The settings framework.conf and framework.conf.d/*.conf may set.
const std::vector<std::string>& framework_conf_settings();

/// Shell variables visible while a file is sourced (kernelver, arch, kernel_source_dir, ...).
/// They are plain (unexported) shell variables, as in dkms.
using ShellPresets = std::vector<std::pair<std::string, std::string>>;

/// Evaluate `files` with bash, the way dkms's safe_source does: each file is sourced by a
/// `bash` process of its own (so nothing it defines reaches the next file) that sees `presets`
/// and the whitelisted values produced by the files before it; its stdout is discarded and its stderr passes through
/// to ours; functions and non-whitelisted variables it defines are thrown away.
/// Missing files in the list are skipped. Every whitelisted variable starts unset.
/// A trailing "\r" is stripped from every value (CRLF files, as dkms 3.4 does).
/// Throws dkms::Error if bash cannot be run or its output cannot be parsed.
/// A file that does not run to its end (exit, exec, set -e) contributes nothing, as in dkms; when
/// `notes` is given, a sentence saying so is added to it for the caller to report.
/// Each file is first checked with check_config_file (so a FIFO, directory, huge or binary file
/// throws instead of hanging or being half-read), and a file that stops at a bash syntax error
/// throws Error(BadConf) quoting `bash -n` (file and line), instead of being used half-read.
RawVars evaluate_shell(const std::vector<std::filesystem::path>& files, const ShellPresets& presets,
                       const std::vector<std::string>& whitelist, std::vector<std::string>* notes = nullptr);

/// The largest configuration file (dkms.conf, framework.conf, /etc/dkms overrides) read, in bytes.
inline constexpr std::size_t max_config_bytes = 1024 * 1024;

/// Whether `file` exists (following links; false for missing or dangling, which callers skip);
/// throws Error(BadConf) naming the file if it exists but is not a regular file, is larger than
/// max_config_bytes, or contains a NUL byte (naming the line).
bool check_config_file(const std::filesystem::path& file);
/// check_config_file that hands back the text it read (nullopt: missing), so that it is read once.
std::optional<std::string> read_config_file(const std::filesystem::path& file);

/// evaluate_shell without bash where that gives the same values. Each existing file is read by the
/// declarative reader on its own, seeing the whitelisted values the files before it carry (merged
/// into them element by element, as evaluate_shell merges); that is done when every file passes
/// check_config_file (which throws otherwise, as in evaluate_shell) and has no backquote or CR, the
/// reader finds it plain (only assignments, `$var`/`${var}` of presets, carried values and its own
/// earlier assignments), and no name it expands while unset is set in the environment (bash would
/// see that value). Anything else (a dkms.conf with `if`, `$(...)`, sourcing, ...) goes to
/// evaluate_shell, with `notes`. Used for dkms.conf, framework.conf and framework.conf.d alike; the
/// unit tests and the fuzz replays compare both.
RawVars evaluate_config(const std::vector<std::filesystem::path>& files, const ShellPresets& presets,
                        const std::vector<std::string>& whitelist, std::vector<std::string>* notes = nullptr);

/// One assignment found by the declarative reader.
struct DeclAssignment {
    std::string name;
    bool indexed = false;   ///< NAME[i]=... (or an element of NAME=(...))
    std::size_t index = 0;
    std::string value;      ///< after quote removal and $var/${var} expansion
    int line = 0;           ///< 1-based line where the assignment starts
};

/// Something the declarative reader cannot interpret without running a shell.
struct DeclNeedsShell {
    int line = 0;
    std::string what;       ///< short description: "command substitution", "if statement", "command 'pushd'", ...
};

/// Result of reading a dkms.conf without executing it.
struct DeclConf {
    RawVars vars;                               ///< final values of every assignment (all names, not only directives)
    std::vector<DeclAssignment> assignments;    ///< in file order
    std::vector<DeclNeedsShell> needs_shell;    ///< empty when the file is plain
    /// Names expanded while neither assigned before nor preset (they expanded to ""), in order of
    /// first use. bash would give them the value of the environment variable of that name.
    std::vector<std::string> unset_expanded;
    bool plain() const { return needs_shell.empty(); }
    /// Line of the last assignment to NAME[idx] (scalar = index 0), or 0 if never assigned.
    int line_of(const std::string& name, std::size_t idx = 0) const;
};

/// Read the plain-assignment subset of shell: comments, blank lines, `NAME=word`,
/// `NAME[i]=word`, `NAME=(w1 w2 ...)`, words made of unquoted, '...' and "..." parts with
/// backslash escapes and line continuations, `$var`, `${var}` and `${var[i]}` expansion
/// against `presets` and earlier assignments (unset expands to ""), `export`/`readonly`
/// prefixes. Anything else (commands, `$(...)`, backticks, `if`/`case`/`for`, functions,
/// arithmetic, other `${...}` forms) is recorded in needs_shell with its line, and the
/// assignment it appears in is skipped. Never throws for bad input.
DeclConf read_declarative(std::string_view text, const ShellPresets& presets = {});

}  // namespace dkms
