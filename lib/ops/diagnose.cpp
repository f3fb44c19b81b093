// SPDX-License-Identifier: GPL-2.0-or-later
// Failure diagnosis: the first real error of a make.log and its likely cause (docs/build-failures.md).
#include "dkms/ops/diagnose.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>
#include <utility>

namespace dkms {

namespace {

using Lines = std::vector<std::string_view>;

constexpr std::array<std::pair<Cause, std::string_view>, 10> kCauseNames{{
    {Cause::KernelApi, "kernel-api"},
    {Cause::Headers, "headers"},
    {Cause::Compiler, "compiler"},
    {Cause::MissingTool, "missing-tool"},
    {Cause::MissingLibrary, "missing-library"},
    {Cause::PreBuild, "pre-build"},
    {Cause::PostBuild, "post-build"},
    {Cause::Patch, "patch"},
    {Cause::DiskFull, "disk-full"},
    {Cause::Unknown, "unknown"},
}};

// The table of what provides what, checked against Debian 12 (bookworm): each program, header and
// pkg-config file below is in the package named (dpkg -S, or dpkg-deb -c of the package).
struct Provider {
    std::string_view name, package;
};
constexpr Provider kPrograms[] = {
    {"bc", "bc"},
    {"flex", "flex"},
    {"bison", "bison"},
    {"perl", "perl"},
    {"python3", "python3"},
    {"pkg-config", "pkg-config"},
    {"m4", "m4"},
    {"patch", "patch"},
    {"xz", "xz-utils"},
    {"zstd", "zstd"},
    {"openssl", "openssl"},
    {"autoreconf", "autoconf"},
    {"autoconf", "autoconf"},
};
constexpr Provider kHeaders[] = {
    {"xtables.h", "libxtables-dev"}, {"libelf.h", "libelf-dev"},      {"gelf.h", "libelf-dev"},
    {"zlib.h", "zlib1g-dev"},        {"ncurses.h", "libncurses-dev"}, {"curses.h", "libncurses-dev"},
};
constexpr Provider kPkgConfig[] = {
    {"libelf", "libelf-dev"},    {"xtables", "libxtables-dev"}, {"openssl", "libssl-dev"},     {"libssl", "libssl-dev"},
    {"libcrypto", "libssl-dev"}, {"zlib", "zlib1g-dev"},        {"ncurses", "libncurses-dev"},
};

template <std::size_t N>
std::string lookup(const Provider (&table)[N], std::string_view name) {
    for (auto& p : table)
        if (p.name == name) return std::string(p.package);
    return "";
}

// The first directory of <linux/...>-style kernel include names: such a header missing from module
// code means the kernel no longer has it.
bool kernel_include(std::string_view header) {
    static const std::string_view dirs[] = {
        "linux/",       "asm/",    "asm-generic/", "uapi/", "net/",  "media/",  "sound/", "drm/",      "scsi/",
        "acpi/",        "crypto/", "trace/",       "xen/",  "rdma/", "video/",  "keys/",  "kvm/",      "clocksource/",
        "dt-bindings/", "misc/",   "pcmcia/",      "ras/",  "soc/",  "target/", "vdso/",  "generated/"};
    for (auto d : dirs)
        if (header.substr(0, d.size()) == d) return true;
    return false;
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < text.size();) {
        std::size_t j = text.find('\n', i);
        if (j == std::string_view::npos) j = text.size();
        std::string_view l = text.substr(i, j - i);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        out.push_back(l);
        i = j + 1;
    }
    return out;
}

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}
bool contains(std::string_view s, std::string_view p) {
    return s.find(p) != std::string_view::npos;
}

bool search(std::string_view s, std::cmatch& m, const std::regex& re) {
    return std::regex_search(s.data(), s.data() + s.size(), m, re);
}
bool search(std::string_view s, const std::regex& re) {
    std::cmatch m;
    return search(s, m, re);
}

// One step of make.log: "<description>\n# command: <cmd>\n<output>\n# exit code: N".
struct Step {
    std::string_view description, command;
    Lines output;
    std::optional<int> exit;
};

std::vector<Step> split_steps(std::string_view log) {
    std::vector<std::string_view> lines = split_lines(log);
    std::vector<Step> steps;
    bool open = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string_view l = lines[i];
        if (starts_with(l, "# command: ")) {
            steps.push_back({i > 0 ? lines[i - 1] : std::string_view(), l.substr(11), {}, std::nullopt});
            open = true;
        } else if (open && starts_with(l, "# exit code: ")) {
            try {
                steps.back().exit = std::stoi(std::string(l.substr(13)));
            } catch (const std::exception&) {
            }
            open = false;
        } else if (open) {
            steps.back().output.push_back(l);
        }
    }
    if (steps.empty()) {  // a log of dkms 3.0 (no steps): the whole text after its two header lines
        Step s;
        s.description = "Building module(s)";
        for (std::size_t i = std::min<std::size_t>(2, lines.size()); i < lines.size(); ++i)
            s.output.push_back(lines[i]);
        steps.push_back(s);
    }
    return steps;
}

// What a line of make's and the compiler's chatter is when it is not itself an error.
bool noise(std::string_view l) {
    static const std::regex re(
        R"(^make(\[\d+\])?: (\*\*\* \[.*\] Error \d+|\*\*\* Waiting for unfinished jobs|\*\*\* Deleting file|)"
        R"(Entering directory|Leaving directory|Nothing to be done))"
        R"(|^(cc1|cc1plus): (some|all) warnings being treated as errors|^compilation terminated\.)"
        R"(|^In file included from |^\s+from \S+[:,]$|: In (static |member )?function |: At top level:$)"
        R"(|^\s+(CC|LD|AR|AS|MODPOST|HOSTCC|HOSTLD|BTF|SIGN|STRIP|GEN|CPP|OBJCOPY|INSTALL|DEPMOD)\b)"
        R"(|: (warning|note): )");
    return search(l, re);
}

// "  12 |     code" and "     |     ^~~": the compiler's quote of the source.
bool source_line(std::string_view l) {
    static const std::regex re(R"(^\s*\d*\s*\|(\s|$))");
    return search(l, re);
}

// ---- the error line ----------------------------------------------------------------------------

enum class Kind {
    DiskFull,
    CompilerDiag,
    DriverError,
    Modpost,
    MissingProgram,
    PkgConfig,
    HeadersDir,
    KconfigInvalid,
    LibraryMention,
    MakeStop,
    Generic
};

struct Hit {
    Kind kind = Kind::Generic;
    std::size_t line = 0;
    std::string a, b;  ///< the pieces the kind needs (see find_hit)
};

bool compiler_name(std::string_view prog) {
    static const std::regex re(R"(^([\w.]+-)*(gcc|cc|cc1|cc1plus|c\+\+|g\+\+|clang|clang\+\+)(-[\d.]+)?$)");
    auto slash = prog.rfind('/');
    return search(slash == std::string_view::npos ? prog : prog.substr(slash + 1), re);
}

// The patterns of the lines that are errors (docs/build-failures.md).
struct Patterns {
    std::regex diag{R"(^(.+?):(\d+)(:\d+)?: ([Ff]atal [Ee]rror|[Ee]rror): (.*)$)"};
    std::regex driver{R"(^([^\s:]+): (?:fatal )?error: (.*)$)"};
    std::regex modpost{R"(^ERROR: modpost: (.*)$)"};
    std::regex shell_nf{R"(^\S+: (?:line )?\d+: (.+?): (?:command )?not found$)"};
    std::regex bash_nf{R"(^(?:/usr)?(?:/bin/)?bash: (.+?): command not found$)"};
    std::regex make_nf{R"(^make(?:\[\d+\])?: ([^*\s][^:]*): (?:No such file or directory|Command not found)$)"};
    std::regex env_nf{R"(^(?:/usr/bin/)?env: ['‘]?([^'’]+?)['’]?: No such file or directory$)"};
    std::regex pkgconf{R"(^Package '?([^'\s,]+)'?,? (?:was not found in the pkg-config search path|)"
                       R"(required by .*, not found)|^No package '([^']+)' found)"};
    std::regex stop{R"(^(?:make(?:\[\d+\])?: |\S+:\d+: )\*\*\* (.*?)\.?\s+Stop\.$)"};
    std::regex build_dir{R"(^(\S+/build): No such file or directory$)"};
    std::regex checked_no{R"(\.\.\.\s*[Nn]o$)"};
    std::regex generic{R"((?:^|[^\w-])(?:error|Error|ERROR)\s*[:!]|No such file or directory|Hunk #\d+ FAILED)"
                       R"(|can't find file to patch|^patch: \*\*\*\*|Reversed \(or previously applied\) patch)"
                       R"(|: can't read |\bfailed to\b|Permission denied|Killed signal terminated program)"};
};

const Patterns& patterns() {
    static const Patterns p;
    return p;
}

// A quick look before the regular expressions: most lines of a long log (compiler command lines
// with -Werror=..., "CC [M]" lines) contain none of these words and are passed over at once.
bool maybe_error(std::string_view l) {
    static const std::string_view words[] = {"No such file", "not found", "No space", "Stop.", "FAILED", "can't",
                                             "failed to", "Permission denied", "Killed signal", "Package ",
                                             "No package", "configuration is invalid", "ERROR", "****",
                                             "Reversed (or previously applied)"};
    for (auto w : words)
        if (contains(l, w)) return true;
    for (std::size_t at = l.find("rror"); at != std::string_view::npos; at = l.find("rror", at + 1))
        if (at == 0 || (l[at - 1] != 'e' || at < 2 || (l[at - 2] != 'W' && l[at - 2] != '-'))) return true;
    return l.size() >= 2 && (l.substr(l.size() - 2) == "no" || l.substr(l.size() - 2) == "No");
}

std::optional<Hit> match_line(std::string_view l) {
    l = l.substr(0, 4096);  // std::regex recurses per character: a huge line must not exhaust the stack
    if (contains(l, "No space left on device")) return Hit{Kind::DiskFull, 0, "", std::string(l)};
    if (!maybe_error(l) || noise(l)) return std::nullopt;
    const Patterns& p = patterns();
    std::cmatch m;
    if (search(l, m, p.diag)) return Hit{Kind::CompilerDiag, 0, m[1].str(), m[5].str()};
    if (search(l, m, p.driver) && compiler_name(std::string_view(m[1].first, m[1].length())))
        return Hit{Kind::DriverError, 0, m[1].str(), m[2].str()};
    if (search(l, m, p.modpost)) return Hit{Kind::Modpost, 0, "", m[1].str()};
    if (search(l, m, p.shell_nf) || search(l, m, p.bash_nf) || search(l, m, p.make_nf) || search(l, m, p.env_nf))
        return Hit{Kind::MissingProgram, 0, m[1].str(), ""};
    if (search(l, m, p.pkgconf)) return Hit{Kind::PkgConfig, 0, m[1].matched ? m[1].str() : m[2].str(), ""};
    if (contains(l, "Kernel configuration is invalid")) return Hit{Kind::KconfigInvalid, 0, "", ""};
    if (search(l, m, p.stop)) {
        std::string msg = m[1].str();
        std::cmatch d;
        if (std::regex_search(msg.c_str(), d, p.build_dir)) return Hit{Kind::HeadersDir, 0, d[1].str(), msg};
        return Hit{Kind::MakeStop, 0, "", msg};
    }
    for (auto& h : kHeaders) {
        std::size_t at = l.find(h.name);
        bool word = at != std::string_view::npos && (at == 0 || !std::isalnum(static_cast<unsigned char>(l[at - 1])));
        if (word && (contains(l, "No such file") || contains(l, "not found") || search(l, p.checked_no)))
            return Hit{Kind::LibraryMention, 0, std::string(h.name), ""};
    }
    if (search(l, m, p.generic)) return Hit{Kind::Generic, 0, "", ""};
    return std::nullopt;
}

std::optional<Hit> find_hit(const Lines& out) {
    for (std::size_t i = 0; i < out.size(); ++i)
        if (auto h = match_line(out[i])) {
            h->line = i;
            // "make: X: No such file or directory" is a missing program, unless make goes on with "No rule
            // to make target 'X'": then X is a file (a makefile, a target) and no program is missing.
            if (h->kind == Kind::MissingProgram && i + 1 < out.size() &&
                contains(out[i + 1], "No rule to make target '" + h->a + "'"))
                return Hit{Kind::MakeStop, i, "", std::string(out[i + 1])};
            return h;
        }
    return std::nullopt;
}

// ---- the excerpt -------------------------------------------------------------------------------

constexpr std::size_t kMaxExcerpt = 5;
constexpr std::size_t kMaxLine = 300;

// `l` with every path inside one of the module's directories made relative to it.
std::string relative(std::string_view l, const BuildFacts& f) {
    std::string s(l);
    for (auto& d : f.source_dirs) {
        std::string dir = d.string();
        while (!dir.empty() && dir.back() == '/') dir.pop_back();
        if (dir.empty()) continue;
        dir += '/';
        for (std::size_t at; (at = s.find(dir)) != std::string::npos;) s.erase(at, dir.size());
    }
    if (s.size() > kMaxLine) {
        std::size_t cut = kMaxLine;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 sequence
        s = s.substr(0, cut) + "...";
    }
    return s;
}

// Source and caret lines ("  12 |     code", "     |     ^~~") lose the indentation they share.
void dedent_source(std::vector<std::string>& lines) {
    static const std::regex re(R"(^(\s*\d*\s*\|(?: |$))(.*)$)");
    for (std::size_t i = 0; i < lines.size();) {
        std::size_t j = i;
        std::size_t common = std::string::npos;
        std::smatch m;
        while (j < lines.size() && std::regex_match(lines[j], m, re)) {
            std::string body = m[2].str();
            std::size_t ind = body.find_first_not_of(' ');
            if (ind != std::string::npos) common = std::min(common, ind);
            ++j;
        }
        if (j > i && common != std::string::npos && common > 0)
            for (std::size_t k = i; k < j; ++k) {
                std::regex_match(lines[k], m, re);
                std::string body = m[2].str();
                lines[k] = m[1].str() + (body.size() > common ? body.substr(common) : "");
            }
        i = j > i ? j : i + 1;
    }
}

void push_unique(std::vector<std::string>& out, std::string l) {
    if (out.size() < kMaxExcerpt && (out.empty() || out.back() != l)) out.push_back(std::move(l));
}

// A compiler diagnostic: the "In function" line before it, the line itself, its source and caret
// lines, and the notes that follow (e.g. "note: declared here", naming the kernel's header).
std::vector<std::string> compiler_excerpt(const Lines& out, std::size_t at, const BuildFacts& f) {
    std::vector<std::string> ex;
    static const std::regex context(R"(: In (static |member )?function |: At top level:$)");
    std::size_t k = at;
    while (k > 0 &&
           (starts_with(out[k - 1], "In file included from ") || starts_with(out[k - 1], "                 from ")))
        --k;
    if (k > 0 && search(out[k - 1], context)) ex.push_back(relative(out[k - 1], f));
    ex.push_back(relative(out[at], f));
    for (std::size_t i = at + 1; i < out.size() && ex.size() < kMaxExcerpt; ++i) {
        std::string_view l = out[i];
        if (starts_with(l, "In file included from ") || starts_with(l, "                 from ")) continue;
        if (source_line(l) || contains(l, ": note: "))
            push_unique(ex, relative(l, f));
        else
            break;
    }
    dedent_source(ex);
    return ex;
}

// Any other error: the line and those after it, up to a blank or a line of make's chatter.
std::vector<std::string> plain_excerpt(const Lines& out, std::size_t at, const BuildFacts& f) {
    std::vector<std::string> ex;
    for (std::size_t i = at; i < out.size() && ex.size() < kMaxExcerpt; ++i) {
        std::string_view l = out[i];
        if (i > at && (l.find_first_not_of(" \t") == std::string_view::npos || noise(l))) break;
        push_unique(ex, relative(l, f));
    }
    return ex;
}

// No line looks like an error: the last lines of the step's output.
std::vector<std::string> tail_excerpt(const Lines& out, const BuildFacts& f) {
    std::vector<std::string> ex;
    for (std::size_t i = out.size(); i-- > 0 && ex.size() < kMaxExcerpt;)
        if (out[i].find_first_not_of(" \t") != std::string_view::npos && !noise(out[i]))
            ex.insert(ex.begin(), relative(out[i], f));
    return ex;
}

// ---- the cause ---------------------------------------------------------------------------------

bool kernel_api_message(std::string_view msg) {
    static const std::regex re(
        R"(implicit declaration of function|too (few|many) arguments to function|has no member named|no member named)"
        R"(|unknown field .* specified in initializer|incompatible pointer type|incompatible type for argument)"
        R"(|unknown type name|undeclared|storage size of .* isn.t known|invalid use of undefined type)"
        R"(|has incomplete type|dereferencing pointer to incomplete type|conflicting types for)"
        R"(|macro .* (passed \d+ arguments, but takes just|requires) \d+|void value not ignored)"
        R"(|redeclared as different kind of symbol|call to undeclared function|use of undeclared identifier)");
    return search(msg, re);
}

bool inside_module(std::string_view path, const BuildFacts& f) {
    if (path.empty() || path[0] != '/') return true;  // relative paths are the module's (kbuild's M= builds)
    for (auto& d : f.source_dirs) {
        std::string dir = d.string();
        while (!dir.empty() && dir.back() == '/') dir.pop_back();
        if (!dir.empty() && starts_with(path, dir + "/")) return true;
    }
    return false;
}

std::string first_word(std::string_view s) {
    std::size_t b = s.find_first_not_of(' ');
    if (b == std::string_view::npos) return "";
    std::size_t e = s.find(' ', b);
    return std::string(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
}

std::string basename_of(std::string_view p) {
    auto slash = p.rfind('/');
    return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

// "x86_64-linux-gnu-gcc-12" -> "gcc-12": the name Debian's compiler packages have.
std::string compiler_package(std::string_view prog) {
    static const std::regex re(R"(^(?:[\w.]+-linux-gnu\w*-)?((gcc|clang|g\+\+)(-[\d.]+)?)$)");
    std::cmatch m;
    std::string b = basename_of(prog);
    if (std::regex_match(b.c_str(), m, re)) return m[1].str();
    return "";
}

// The compiler the failed step used: CC= on its command line, LLVM=1, then the environment's CC.
std::string compiler_used(std::string_view command, const BuildFacts& f) {
    static const std::regex cc(R"((?:^|\s)CC=['"]?([^'"\s]+))");
    std::cmatch m;
    if (search(command, m, cc)) return m[1].str();
    static const std::regex llvm(R"((?:^|\s)LLVM=1\b)");
    if (search(command, llvm)) return "clang";
    return f.cc;
}

// Kbuild's own warning (when the distribution does not silence it) names both compilers.
void compilers_from_warning(const std::vector<std::string_view>& lines, std::string& kernel_cc, std::string& used) {
    for (auto l : lines) {
        if (starts_with(l, "  The kernel was built by: ") && kernel_cc.empty()) kernel_cc = std::string(l.substr(27));
        if (starts_with(l, "  You are using:")) used = first_word(l.substr(16));
    }
}

std::string kbuild_package(const std::string& kernel) {
    std::cmatch m;
    if (std::regex_search(kernel.c_str(), m, std::regex(R"(^(\d+\.\d+))"))) return "linux-kbuild-" + m[1].str();
    return "linux-kbuild";
}

struct Classifier {
    const BuildFacts& f;
    Diagnosis& d;
    std::string kernel_cc, used;  // CONFIG_CC_VERSION_TEXT, and the compiler the build used
    bool cc_given = false;        // `used` was set (CC= on the command line, LLVM=1, the environment)

    std::string mv() const { return f.module + "/" + f.version; }
    std::string kernel_compiler() const { return first_word(kernel_cc); }
    bool other_compiler(std::string_view prog) const {
        std::string k = compiler_package(kernel_compiler()), u = compiler_package(prog);
        return !k.empty() && !u.empty() && k != u && !(u == "gcc" && starts_with(k, "gcc"));
    }

    void kernel_api(std::string missing) {
        d.cause = Cause::KernelApi;
        d.missing = std::move(missing);
        d.summary = mv() + " does not compile against the API of kernel " + f.kernel + ".";
        d.fix = "It needs a version of " + f.module + " that supports kernel " + f.kernel +
                ": update the package that provides it (or ask its authors), or boot a kernel it supports.";
    }
    void headers(std::string missing, std::string package) {
        d.cause = Cause::Headers;
        d.missing = std::move(missing);
        d.package = package.empty() ? "linux-headers-" + f.kernel : std::move(package);
        d.summary = "The headers of kernel " + f.kernel + " are incomplete: " + d.missing + " is missing.";
        d.fix = "Reinstall them: apt-get install --reinstall " + d.package + ", then build again.";
    }
    void headers_dir(const std::string& dir) {
        d.cause = Cause::Headers;
        d.missing = dir;
        static const std::regex other(R"(/lib/modules/([^/]+)/build$)");
        std::smatch m;
        if (std::regex_search(dir, m, other) && m[1].str() != f.kernel) {
            d.package = "linux-headers-" + m[1].str();
            d.summary = "The build looked for the headers of kernel " + m[1].str() + " (" + dir + "), not those of " +
                        f.kernel + ": its MAKE line or Makefile uses the running kernel (uname -r).";
            d.fix = "Report it to the packager of " + f.module + " (the build must use $kernelver or KERNELRELEASE).";
            return;
        }
        d.package = "linux-headers-" + f.kernel;
        d.summary = "The headers of kernel " + f.kernel + " are not installed (" + dir + ").";
        d.fix = "apt-get install " + d.package + ", then build again.";
    }
    void compiler_missing(const std::string& prog) {
        d.cause = Cause::Compiler;
        d.missing = prog;
        d.package = compiler_package(prog);
        d.summary = kernel_cc.empty()
                        ? "The compiler " + prog + " is not installed."
                        : "Kernel " + f.kernel + " was built by " + kernel_cc + ", and " + prog + " is not installed.";
        d.fix = d.package.empty() ? "Install " + prog + ", then build again."
                                  : "apt-get install " + d.package + ", then build again.";
    }
    void compiler_mismatch(const std::string& prog) {
        d.cause = Cause::Compiler;
        d.summary = "Kernel " + f.kernel + " was built by " + (kernel_cc.empty() ? "another compiler" : kernel_cc) +
                    "; this build used " + prog + ".";
        d.package = compiler_package(kernel_compiler());
        std::string install = d.package.empty() ? "" : "apt-get install " + d.package;
        if (cc_given)
            d.fix = "Build with " + (kernel_compiler().empty() ? "the kernel's compiler" : kernel_compiler()) +
                    (install.empty() ? "" : " (" + install + ")") + ": remove CC=" + used +
                    " from the build (MAKE in dkms.conf, its Makefile, build_environment).";
        else
            d.fix = install.empty() ? "Install the compiler that built the kernel, then build again."
                                    : install + " (the compiler that built the kernel), then build again.";
    }
    void missing_tool(const std::string& prog) {
        d.cause = Cause::MissingTool;
        d.missing = prog;
        d.package = package_for_program(basename_of(prog));
        d.summary = "The build runs " + prog + ", which is not installed.";
        d.fix = d.package.empty() ? "Install the package that provides " + prog + ", then build again."
                                  : "apt-get install " + d.package + ", then build again.";
    }
    void missing_library(const std::string& what, const std::string& package, bool pkgconfig = false) {
        d.cause = Cause::MissingLibrary;
        d.missing = what;
        d.package = package;
        d.summary = "The build needs " + (pkgconfig ? "the library " + what + " (pkg-config cannot find it)" : what) +
                    (package.empty() ? "" : ", from " + package + ",") + " which is not installed.";
        d.fix = package.empty() ? "Install the development package that provides " + what + ", then build again."
                                : "apt-get install " + package + ", then build again.";
    }
    void disk_full() {
        d.cause = Cause::DiskFull;
        d.summary = "A file system the build writes to is full (No space left on device).";
        d.fix = "Free some space (df shows which file system is full: the dkms tree's or TMPDIR's), then build again.";
    }
    void by_step() {
        if (d.step == "patch") {
            d.cause = Cause::Patch;
            d.summary = "The patch " + d.step_detail + " does not apply to " + mv() + " (exit status " +
                        std::to_string(d.exit_code) + ").";
            d.fix =
                "The patch does not fit this version of the source: update or remove it (PATCH in dkms.conf, or "
                "/etc/dkms/" +
                f.module + "/patches/" + d.step_detail + ").";
        } else if (d.step == "pre_build" || d.step == "post_build") {
            bool pre = d.step == "pre_build";
            d.cause = pre ? Cause::PreBuild : Cause::PostBuild;
            d.summary = std::string("The ") + (pre ? "PRE_BUILD" : "POST_BUILD") + " script " + d.step_detail + " of " +
                        mv() + " failed (exit status " + std::to_string(d.exit_code) + ").";
            d.fix =
                "It is the module's own script: its whole output is in make.log; report the failure to the "
                "packager of " +
                f.module + ".";
        } else {
            d.cause = Cause::Unknown;
            d.summary = "dkms-run does not recognise this error.";
            d.fix = "Read the whole make.log; if the module's source is at fault, report it to the authors of " +
                    f.module + " with that file.";
        }
    }

    void classify(const Hit& h) {
        switch (h.kind) {
            case Kind::DiskFull: return disk_full();
            case Kind::CompilerDiag: return compiler_diag(h.a, h.b);
            case Kind::DriverError:
                if (other_compiler(h.a) || other_compiler(used))
                    return compiler_mismatch(basename_of(h.a) == "cc1" ? used : h.a);
                return by_step();
            case Kind::Modpost:
                if (contains(h.b, "undefined!") || contains(h.b, "GPL-only symbol")) return kernel_api(symbol_of(h.b));
                return by_step();
            case Kind::MissingProgram: return missing_program(h.a);
            case Kind::PkgConfig: return missing_library(h.a, package_for_pkgconfig(h.a), true);
            case Kind::HeadersDir: return headers_dir(h.a);
            case Kind::KconfigInvalid: return headers("include/config/auto.conf", "");
            case Kind::LibraryMention: return missing_library(h.a, package_for_header(h.a));
            case Kind::MakeStop:
            case Kind::Generic: return by_step();
        }
    }
    static std::string symbol_of(const std::string& msg) {
        std::smatch m;
        if (std::regex_search(msg, m, std::regex("\"([^\"]+)\""))) return m[1].str();
        return "";
    }
    void missing_program(std::string prog) {
        if (starts_with(prog, "./")) prog = prog.substr(2);
        if (starts_with(prog, "scripts/") || starts_with(prog, "tools/"))
            return headers(prog, kbuild_package(f.kernel));
        if (compiler_name(prog)) return compiler_missing(prog);
        missing_tool(prog);
    }
    void compiler_diag(const std::string& path, const std::string& msg) {
        static const std::regex nofile(R"(^([^:\s]+): No such file or directory$)");
        std::smatch m;
        bool in_module = inside_module(path, f);
        if (std::regex_match(msg, m, nofile)) {
            std::string header = m[1].str();
            std::string pkg = package_for_header(header);
            if (!pkg.empty()) return missing_library(header, pkg);
            if (kernel_include(header))
                return in_module && !starts_with(header, "generated/") ? kernel_api(header) : headers(header, "");
            return by_step();
        }
        if (!in_module && other_compiler(used)) return compiler_mismatch(used);
        if (kernel_api_message(msg)) return kernel_api("");
        by_step();
    }
};

std::string step_name(std::string_view desc) {
    if (starts_with(desc, "Applying patch ")) return "patch";
    if (starts_with(desc, "Running the pre_build script")) return "pre_build";
    if (starts_with(desc, "Running the post_build script")) return "post_build";
    return "make";
}

// The program a PRE_BUILD/POST_BUILD step ran ("cd <build>/ && <prog> args"), relative to the module.
std::string script_of(std::string_view command, const BuildFacts& f) {
    auto amp = command.find(" && ");
    std::string prog = first_word(amp == std::string_view::npos ? command : command.substr(amp + 4));
    prog = relative(prog, f);
    while (starts_with(prog, "./")) prog = prog.substr(2);
    return prog;
}

}  // namespace

std::string_view cause_name(Cause c) {
    for (auto& [cause, name] : kCauseNames)
        if (cause == c) return name;
    return "unknown";
}

std::optional<Cause> cause_from_name(std::string_view name) {
    for (auto& [cause, n] : kCauseNames)
        if (n == name) return cause;
    return std::nullopt;
}

std::string package_for_program(std::string_view name) {
    return lookup(kPrograms, name);
}

std::string package_for_header(std::string_view header) {
    if (starts_with(header, "openssl/")) return "libssl-dev";
    return lookup(kHeaders, header);
}

std::string package_for_pkgconfig(std::string_view name) {
    return lookup(kPkgConfig, name);
}

Diagnosis diagnose_make_log(std::string_view log, const BuildFacts& facts) {
    Diagnosis d;
    std::vector<Step> steps = split_steps(log);
    const Step* failed = &steps.back();
    for (auto& s : steps)
        if (s.exit && *s.exit != 0) {
            failed = &s;
            break;
        }
    d.step = step_name(failed->description);
    d.exit_code = failed->exit.value_or(0);
    if (d.step == "patch") d.step_detail = std::string(failed->description.substr(15));
    if (d.step == "pre_build" || d.step == "post_build") d.step_detail = script_of(failed->command, facts);

    Classifier c{facts, d, facts.kernel_cc, compiler_used(failed->command, facts)};
    c.cc_given = !c.used.empty();
    compilers_from_warning(failed->output, c.kernel_cc, c.used);
    std::optional<Hit> hit = find_hit(failed->output);
    if (!hit) {
        d.excerpt = tail_excerpt(failed->output, facts);
        d.excerpt_is_tail = true;
        c.by_step();
        return d;
    }
    d.excerpt = hit->kind == Kind::CompilerDiag ? compiler_excerpt(failed->output, hit->line, facts)
                                                : plain_excerpt(failed->output, hit->line, facts);
    c.classify(*hit);
    return d;
}

Diagnosis diagnose_error(const Error& e, const BuildFacts& facts) {
    Diagnosis d;
    for (auto& l : e.lines())
        if (d.excerpt.size() < kMaxExcerpt) d.excerpt.push_back(l);
    d.exit_code = int(e.code());
    if (e.code() == ExitCode::HeadersMissing) {
        d.cause = Cause::Headers;
        d.package = "linux-headers-" + facts.kernel;
        d.summary = "The headers of kernel " + facts.kernel + " are missing or incomplete.";
        d.fix = "apt-get install --reinstall " + d.package + ", then build again.";
    } else {
        d.summary = "dkms-run does not recognise this error.";
        d.fix = "See the error above.";
    }
    return d;
}

std::vector<std::string> why_block(const Diagnosis& d, const std::filesystem::path& log) {
    std::vector<std::string> out;
    out.push_back(d.excerpt.empty()   ? "Why: make.log names no error."
                  : d.excerpt_is_tail ? "Why: the failed step ends in make.log with:"
                                      : "Why: the first error in make.log:");
    for (auto& l : d.excerpt) out.push_back("    " + l);
    out.push_back("Likely cause: " + d.summary);
    out.push_back("What to do: " + d.fix);
    if (d.cause == Cause::Unknown && !log.empty()) out.push_back("The whole log: " + log.string());
    return out;
}

std::vector<std::string> outcome_table(const std::vector<OutcomeRow>& rows) {
    std::size_t wm = 6, wv = 7, wr = 6;
    for (auto& r : rows) {
        wm = std::max(wm, r.module.size());
        wv = std::max(wv, r.version.size());
        wr = std::max(wr, r.result.size());
    }
    auto line = [&](const std::string& m, const std::string& v, const std::string& r, const std::string& c) {
        std::string s = m + std::string(wm - m.size() + 2, ' ') + v + std::string(wv - v.size() + 2, ' ') + r;
        if (!c.empty()) s += std::string(wr - r.size() + 2, ' ') + c;
        return s;
    };
    std::vector<std::string> out{line("Module", "Version", "Result", "Cause")};
    for (auto& r : rows) out.push_back(line(r.module, r.version, r.result, r.cause));
    return out;
}

}  // namespace dkms
