// SPDX-License-Identifier: GPL-2.0-or-later
// Reading the plain-assignment subset of dkms.conf without running a shell.
//
// A small bash lexer (words with their quoting kept raw, operators, newlines, comments,
// continuations, here-documents) feeds a parser that understands simple commands made only
// of assignments, optionally behind `export`/`readonly`. Anything else is reported in
// needs_shell and skipped as a whole: compound commands (if/case/for/while/until/select,
// groups, subshells, function bodies) are skipped up to their matching end, so that
// conditional assignments inside them are never taken as unconditional.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "dkms/conf/raw_conf.hpp"

namespace dkms {

namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_identifier(std::string_view s) {
    if (s.empty() || !is_name_start(s[0])) return false;
    return std::all_of(s.begin(), s.end(), is_name_char);
}

bool is_meta(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' ||
           c == '<' || c == '>';
}

struct Tok {
    enum Kind { Word, Op, Newline, End } kind = End;
    std::string text;          ///< raw word (quotes kept) or operator
    std::size_t begin = 0, end = 0;
    int line = 0;
};

// ---------------------------------------------------------------------------------------
// Lexer

class Lexer {
public:
    explicit Lexer(std::string_view s) : s_(s) {
        line_starts_.push_back(0);
        for (std::size_t i = 0; i < s_.size(); ++i)
            if (s_[i] == '\n') line_starts_.push_back(i + 1);
    }

    int line_at(std::size_t off) const {
        auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
        return int(it - line_starts_.begin());
    }

    Tok next() {
        skip_blanks();
        Tok t;
        t.begin = pos_;
        t.line = line_at(pos_);
        if (pos_ >= s_.size()) {
            t.kind = Tok::End;
            t.end = pos_;
            return t;
        }
        char c = s_[pos_];
        if (c == '\n') {
            ++pos_;
            read_heredocs();
            t.kind = Tok::Newline;
            t.text = "\n";
            t.end = pos_;
            return t;
        }
        if (is_meta(c)) {
            static const char* ops[] = {";;&", ";;", ";&", ";", "&&", "&>>", "&>", "&", "||", "|&", "|", "<<<",
                                        "<<-", "<<", "<&", "<>", "<", ">>", ">&", ">|", ">", "(", ")"};
            for (const char* op : ops) {
                std::string_view o(op);
                if (s_.substr(pos_, o.size()) == o) {
                    pos_ += o.size();
                    t.kind = Tok::Op;
                    t.text = std::string(o);
                    t.end = pos_;
                    if (o == "<<" || o == "<<-") {
                        want_delim_ = true;
                        strip_tabs_ = o == "<<-";
                    }
                    return t;
                }
            }
        }
        std::size_t e = scan_word(pos_);
        t.kind = Tok::Word;
        t.text = std::string(s_.substr(pos_, e - pos_));
        pos_ = e;
        t.end = e;
        if (want_delim_) {
            want_delim_ = false;
            std::string d;
            for (char ch : t.text)
                if (ch != '\'' && ch != '"' && ch != '\\') d += ch;
            heredocs_.push_back({d, strip_tabs_});
        }
        return t;
    }

private:
    void skip_blanks() {
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c == ' ' || c == '\t') {
                ++pos_;
            } else if (c == '\\' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') {
                pos_ += 2;
            } else if (c == '#') {
                while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
            } else {
                break;
            }
        }
    }

    void read_heredocs() {
        for (auto& [delim, tabs] : heredocs_) {
            while (pos_ < s_.size()) {
                std::size_t nl = s_.find('\n', pos_);
                std::size_t end = nl == std::string_view::npos ? s_.size() : nl;
                std::string_view line = s_.substr(pos_, end - pos_);
                if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
                if (tabs)
                    while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
                pos_ = nl == std::string_view::npos ? s_.size() : nl + 1;
                if (line == delim) break;
            }
        }
        heredocs_.clear();
    }

    // The scanners return the offset just past the construct (or the end of the input
    // when it is unterminated; the expansion step then reports it).
    std::size_t scan_squote(std::size_t p) const {   // p at the opening '
        auto q = s_.find('\'', p + 1);
        return q == std::string_view::npos ? s_.size() : q + 1;
    }
    std::size_t scan_ansi(std::size_t p) const {   // p at the ' of $'
        for (++p; p < s_.size(); ++p) {
            if (s_[p] == '\\') ++p;
            else if (s_[p] == '\'') return p + 1;
        }
        return s_.size();
    }
    std::size_t scan_backtick(std::size_t p) const {
        for (++p; p < s_.size(); ++p) {
            if (s_[p] == '\\') ++p;
            else if (s_[p] == '`') return p + 1;
        }
        return s_.size();
    }
    std::size_t scan_dquote(std::size_t p) const {
        for (++p; p < s_.size();) {
            char c = s_[p];
            if (c == '"') return p + 1;
            if (c == '\\') p += 2;
            else if (c == '$') p = scan_dollar(p);
            else if (c == '`') p = scan_backtick(p);
            else ++p;
        }
        return s_.size();
    }
    // p at '$'
    std::size_t scan_dollar(std::size_t p) const {
        if (p + 1 >= s_.size()) return p + 1;
        char n = s_[p + 1];
        if (n == '(') return scan_parens(p + 1);
        if (n == '{') return scan_braces(p + 1);
        return p + 1;
    }
    // p at '(' ; balanced parentheses, quotes respected.
    std::size_t scan_parens(std::size_t p) const {
        int depth = 0;
        while (p < s_.size()) {
            char c = s_[p];
            if (c == '(') ++depth, ++p;
            else if (c == ')') {
                ++p;
                if (--depth == 0) return p;
            } else if (c == '\\') p += 2;
            else if (c == '\'') p = scan_squote(p);
            else if (c == '"') p = scan_dquote(p);
            else if (c == '`') p = scan_backtick(p);
            else if (c == '$' && p + 1 < s_.size() && s_[p + 1] == '{') p = scan_braces(p + 1);
            else ++p;
        }
        return s_.size();
    }
    // p at '{'
    std::size_t scan_braces(std::size_t p) const {
        for (++p; p < s_.size();) {
            char c = s_[p];
            if (c == '}') return p + 1;
            if (c == '\\') p += 2;
            else if (c == '\'') p = scan_squote(p);
            else if (c == '"') p = scan_dquote(p);
            else if (c == '`') p = scan_backtick(p);
            else if (c == '$') p = scan_dollar(p);
            else ++p;
        }
        return s_.size();
    }

    std::size_t scan_word(std::size_t p) const {
        while (p < s_.size()) {
            char c = s_[p];
            if (is_meta(c)) break;
            if (c == '\\') p += 2;
            else if (c == '\'') p = scan_squote(p);
            else if (c == '"') p = scan_dquote(p);
            else if (c == '`') p = scan_backtick(p);
            else if (c == '$' && p + 1 < s_.size() && s_[p + 1] == '\'') p = scan_ansi(p + 1);
            else if (c == '$') p = scan_dollar(p);
            else ++p;
        }
        return std::min(p, s_.size());
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    std::vector<std::size_t> line_starts_;
    bool want_delim_ = false, strip_tabs_ = false;
    std::vector<std::pair<std::string, bool>> heredocs_;
};

// ---------------------------------------------------------------------------------------
// Word expansion (the subset we evaluate)

enum class Ctx { Scalar, ArrayElem };

struct Expanded {
    std::string value;
    bool quoted = false;   ///< some part was quoted or escaped (the word survives even if empty)
    std::string why;       ///< non-empty: needs a shell for this reason
    std::vector<std::string> unset;   ///< names expanded while neither assigned nor preset
};

bool is_bash_dynamic(const std::string& n) {
    static const std::set<std::string> names = {
        "BASH", "BASHOPTS", "BASHPID", "BASH_ALIASES", "BASH_ARGC", "BASH_ARGV", "BASH_ARGV0", "BASH_CMDS",
        "BASH_COMMAND", "BASH_LINENO", "BASH_REMATCH", "BASH_SOURCE", "BASH_SUBSHELL", "BASH_VERSINFO",
        "BASH_VERSION", "DIRSTACK", "EPOCHREALTIME", "EPOCHSECONDS", "EUID", "FUNCNAME", "GROUPS", "HOME",
        "HOSTNAME", "HOSTTYPE", "IFS", "LINENO", "LOGNAME", "MACHTYPE", "OLDPWD", "OPTARG", "OPTIND", "OSTYPE",
        "PATH", "PIPESTATUS", "PPID", "PWD", "RANDOM", "REPLY", "SECONDS", "SHELL", "SHELLOPTS", "SHLVL",
        "SRANDOM", "TMPDIR", "UID", "USER"};
    return names.count(n) > 0;
}

class Expander {
public:
    Expander(const RawVars& vars, const std::map<std::string, std::string>& presets)
        : vars_(vars), presets_(presets) {}

    Expanded expand(std::string_view word, Ctx ctx) const {
        // Backslash-newline disappears before anything else (outside single quotes).
        std::string joined = remove_continuations(word);
        std::string_view w = joined;
        Expanded r;
        std::size_t i = 0;
        bool at_value_start = true;   // for tilde expansion
        while (i < w.size() && r.why.empty()) {
            char c = w[i];
            bool start = at_value_start;
            at_value_start = false;
            if (c == '\\') {
                if (i + 1 >= w.size()) {
                    r.value += '\\';
                    ++i;
                } else if (w[i + 1] == '\n') {
                    i += 2;
                    at_value_start = start;
                } else {
                    r.value += w[i + 1];
                    r.quoted = true;
                    i += 2;
                }
            } else if (c == '\'') {
                auto q = w.find('\'', i + 1);
                if (q == std::string_view::npos) return fail(r, "unterminated quote");
                r.value += w.substr(i + 1, q - i - 1);
                r.quoted = true;
                i = q + 1;
            } else if (c == '"') {
                r.quoted = true;
                i = dquote(w, i + 1, r);
            } else if (c == '$') {
                i = dollar(w, i, false, ctx, r);
            } else if (c == '`') {
                return fail(r, "command substitution");
            } else if (c == '~' && (start || ctx == Ctx::ArrayElem)) {
                if (start) return fail(r, "tilde expansion");
                r.value += c;
                ++i;
            } else if (ctx == Ctx::ArrayElem && (c == '*' || c == '?' || c == '[')) {
                return fail(r, "pathname expansion");
            } else if (ctx == Ctx::ArrayElem && (c == '{' || c == '}')) {
                return fail(r, "brace expansion");
            } else {
                r.value += c;
                if (c == ':' && ctx == Ctx::Scalar) at_value_start = true;   // PATH-like tilde
                ++i;
            }
        }
        return r;
    }

private:
    static std::string remove_continuations(std::string_view w) {
        std::string o;
        bool sq = false, dq = false;
        for (std::size_t i = 0; i < w.size(); ++i) {
            char c = w[i];
            if (sq) {
                o += c;
                if (c == '\'') sq = false;
            } else if (c == '\\' && i + 1 < w.size()) {
                if (w[i + 1] != '\n') o += w.substr(i, 2);
                ++i;
            } else {
                o += c;
                if (c == '"') dq = !dq;
                else if (c == '\'' && !dq) sq = true;
            }
        }
        return o;
    }

    static Expanded& fail(Expanded& r, std::string why) {
        if (r.why.empty()) r.why = std::move(why);
        return r;
    }

    // i just past the opening quote; returns the offset past the closing quote.
    std::size_t dquote(std::string_view w, std::size_t i, Expanded& r) const {
        while (i < w.size()) {
            char c = w[i];
            if (c == '"') return i + 1;
            if (c == '\\' && i + 1 < w.size()) {
                char n = w[i + 1];
                if (n == '\n') {
                    i += 2;
                } else if (n == '$' || n == '`' || n == '"' || n == '\\') {
                    r.value += n;
                    i += 2;
                } else {
                    r.value += '\\';
                    ++i;
                }
            } else if (c == '$') {
                i = dollar(w, i, true, Ctx::Scalar, r);
                if (!r.why.empty()) return w.size();
            } else if (c == '`') {
                fail(r, "command substitution");
                return w.size();
            } else {
                r.value += c;
                ++i;
            }
        }
        fail(r, "unterminated quote");
        return w.size();
    }

    std::string lookup(const std::string& name, std::size_t idx, Expanded& r) const {
        if (auto it = vars_.find(name); it != vars_.end()) {
            auto jt = it->second.find(idx);
            return jt == it->second.end() ? std::string() : jt->second;
        }
        if (auto it = presets_.find(name); it != presets_.end()) return idx == 0 ? it->second : std::string();
        if (is_bash_dynamic(name)) fail(r, "bash variable '" + name + "'");
        else r.unset.push_back(name);
        return {};
    }

    // i at '$'; returns the offset after the expansion.
    std::size_t dollar(std::string_view w, std::size_t i, bool quoted, Ctx ctx, Expanded& r) const {
        if (i + 1 >= w.size()) {
            r.value += '$';
            return i + 1;
        }
        char n = w[i + 1];
        std::string name;
        std::size_t idx = 0, end;
        if (n == '(') {
            fail(r, i + 2 < w.size() && w[i + 2] == '(' ? "arithmetic expansion" : "command substitution");
            return w.size();
        } else if (n == '[') {
            fail(r, "arithmetic expansion");
            return w.size();
        } else if (n == '{') {
            auto close = w.find('}', i + 2);
            if (close == std::string_view::npos) {
                fail(r, "unterminated ${");
                return w.size();
            }
            std::string_view in = w.substr(i + 2, close - i - 2);
            std::size_t k = 0;
            while (k < in.size() && is_name_char(in[k])) ++k;
            name = std::string(in.substr(0, k));
            bool ok = is_identifier(name);
            if (ok && k < in.size()) {
                // only ${name[digits]}
                std::string_view rest = in.substr(k);
                ok = rest.size() >= 3 && rest.front() == '[' && rest.back() == ']' &&
                     std::all_of(rest.begin() + 1, rest.end() - 1, is_digit) &&
                     (rest.size() == 3 || rest[1] != '0');
                if (ok) idx = std::stoul(std::string(rest.substr(1, rest.size() - 2)));
            }
            if (!ok) {
                std::string shown(in.substr(0, 20));
                fail(r, "parameter expansion '${" + shown + (in.size() > 20 ? "..." : "") + "}'");
                return w.size();
            }
            end = close + 1;
        } else if (is_name_start(n)) {
            std::size_t k = i + 1;
            while (k < w.size() && is_name_char(w[k])) ++k;
            name = std::string(w.substr(i + 1, k - i - 1));
            end = k;
        } else if (is_digit(n) || n == '@' || n == '*' || n == '#' || n == '?' || n == '$' || n == '!' ||
                   n == '-') {
            fail(r, std::string("special parameter '$") + n + "'");
            return w.size();
        } else if (!quoted && n == '\'') {
            fail(r, "ANSI-C quoting $'...'");
            return w.size();
        } else if (!quoted && n == '"') {
            fail(r, "locale quoting $\"...\"");
            return w.size();
        } else {
            r.value += '$';
            return i + 1;
        }
        std::string v = lookup(name, idx, r);
        if (!r.why.empty()) return w.size();
        if (!quoted && ctx == Ctx::ArrayElem &&
            v.find_first_of(" \t\n*?[") != std::string::npos) {
            fail(r, "word splitting of $" + name);
            return w.size();
        }
        r.value += v;
        return end;
    }

    const RawVars& vars_;
    const std::map<std::string, std::string>& presets_;
};

// ---------------------------------------------------------------------------------------
// Parser

/// `NAME=`, `NAME+=`, `NAME[idx]=`, `NAME[idx]+=` at the start of a word.
struct AssignHead {
    std::string name;
    std::optional<std::string> index;   ///< raw text between the brackets
    bool append = false;
    std::size_t value_off = 0;          ///< offset of the value in the word
};

std::optional<AssignHead> assignment_head(std::string_view w) {
    std::size_t k = 0;
    if (w.empty() || !is_name_start(w[0])) return std::nullopt;
    while (k < w.size() && is_name_char(w[k])) ++k;
    AssignHead h;
    h.name = std::string(w.substr(0, k));
    if (k < w.size() && w[k] == '[') {
        auto close = w.find(']', k);
        if (close == std::string_view::npos) return std::nullopt;
        h.index = std::string(w.substr(k + 1, close - k - 1));
        k = close + 1;
    }
    if (k < w.size() && w[k] == '+') {
        h.append = true;
        ++k;
    }
    if (k >= w.size() || w[k] != '=') return std::nullopt;
    h.value_off = k + 1;
    return h;
}

std::optional<std::size_t> parse_index(const std::string& s) {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
    if (s.size() > 1 && s[0] == '0') return std::nullopt;   // bash reads it as octal
    return std::stoul(s);
}

bool is_separator(const Tok& t) {
    if (t.kind == Tok::Newline || t.kind == Tok::End) return true;
    if (t.kind != Tok::Op) return false;
    static const std::set<std::string> seps = {";", "&", "&&", "||", "|", "|&", ";;", ";&", ";;&"};
    return seps.count(t.text) > 0;
}

bool is_redirection(const Tok& t) {
    return t.kind == Tok::Op && (t.text[0] == '<' || t.text[0] == '>' || t.text == "&>" || t.text == "&>>");
}

std::string shorten(std::string s) {
    if (s.size() > 30) s = s.substr(0, 27) + "...";
    for (char& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return s;
}

class Parser {
public:
    Parser(std::string_view text, const ShellPresets& presets) : text_(text), lx_(text) {
        for (auto& [k, v] : presets) presets_[k] = v;
        advance();
    }

    DeclConf run() {
        while (cur_.kind != Tok::End) {
            if (cur_.kind == Tok::Newline) {
                advance();
                continue;
            }
            statement();
            // `;` ends a command; one more right after it, or at the start, is a syntax error.
            if (cur_.kind == Tok::Op && cur_.text == ";") advance();
        }
        // Final values, with dkms's CRLF rule applied: one trailing "\r" is dropped.
        for (auto& [name, idxs] : raw_)
            for (auto& [i, v] : idxs) out_.vars[name][i] = strip_cr(v);
        for (auto& a : out_.assignments) a.value = strip_cr(a.value);
        return std::move(out_);
    }

private:
    static std::string strip_cr(std::string v) {
        if (!v.empty() && v.back() == '\r') v.pop_back();
        return v;
    }

    void advance() {
        if (!look_.empty()) {
            cur_ = look_.front();
            look_.erase(look_.begin());
        } else {
            cur_ = lx_.next();
        }
    }
    const Tok& peek() {
        if (look_.empty()) look_.push_back(lx_.next());
        return look_.front();
    }

    void needs(int line, std::string what) { out_.needs_shell.push_back({line, std::move(what)}); }

    // ---- skipping what we do not interpret ---------------------------------------------

    struct Frame {
        std::string closer;
        enum { Plain, CaseHeader, CasePattern, CaseBody } phase = Plain;
    };

    /// Skip tokens up to the end of the current list (a newline, `;` or `&` outside any
    /// compound command), keeping track of nesting.
    void skip(bool cmdpos = true) {
        std::vector<Frame> st;
        while (cur_.kind != Tok::End) {
            Tok t = cur_;
            Frame* top = st.empty() ? nullptr : &st.back();
            if (top && top->phase == Frame::CaseHeader) {
                if (t.kind == Tok::Word && t.text == "in") top->phase = Frame::CasePattern;
                advance();
                continue;
            }
            if (top && top->phase == Frame::CasePattern) {
                if (t.kind == Tok::Word && t.text == "esac") {
                    st.pop_back();
                    cmdpos = false;
                } else if (t.kind == Tok::Op && t.text == ")") {
                    top->phase = Frame::CaseBody;
                    cmdpos = true;
                }
                advance();
                continue;
            }
            if (t.kind == Tok::Newline || (t.kind == Tok::Op && (t.text == ";" || t.text == "&"))) {
                advance();
                if (st.empty()) return;
                cmdpos = true;
                continue;
            }
            if (t.kind == Tok::Op && (t.text == ";;" || t.text == ";&" || t.text == ";;&")) {
                advance();
                if (top && top->closer == "esac") top->phase = Frame::CasePattern;
                else if (st.empty()) return;
                cmdpos = true;
                continue;
            }
            if (t.kind == Tok::Op && (t.text == "&&" || t.text == "||" || t.text == "|" || t.text == "|&")) {
                cmdpos = true;
                advance();
                continue;
            }
            if (t.kind == Tok::Op && t.text == "(") {
                st.push_back({")"});
                cmdpos = true;
                advance();
                continue;
            }
            if (t.kind == Tok::Op && t.text == ")") {
                if (top && top->closer == ")") st.pop_back();
                cmdpos = true;   // `f() {` and `f() (`: the body follows
                advance();
                continue;
            }
            if (is_redirection(t)) {
                advance();
                if (cur_.kind == Tok::Word) advance();
                continue;
            }
            // A word.
            if (cmdpos) {
                const std::string& w = t.text;
                if (w == "if") st.push_back({"fi"});
                else if (w == "while" || w == "until") st.push_back({"done"});
                else if (w == "for" || w == "select") {
                    st.push_back({"done"});
                    cmdpos = false;
                    advance();
                    continue;
                } else if (w == "case") {
                    st.push_back({"esac", Frame::CaseHeader});
                    advance();
                    continue;
                } else if (w == "{") st.push_back({"}"});
                else if (w == "}" || w == "fi" || w == "done" || w == "esac") {
                    auto it = std::find_if(st.rbegin(), st.rend(), [&](const Frame& f) { return f.closer == w; });
                    if (it != st.rend()) st.erase(std::next(it).base(), st.end());
                    cmdpos = false;
                    advance();
                    continue;
                } else if (w == "[[") {
                    advance();
                    while (cur_.kind != Tok::End && !(cur_.kind == Tok::Word && cur_.text == "]]")) advance();
                    if (cur_.kind != Tok::End) advance();
                    cmdpos = false;
                    continue;
                } else if (w == "function") {
                    advance();
                    if (cur_.kind == Tok::Word) advance();   // the name
                    cmdpos = true;
                    continue;
                } else if (w == "then" || w == "else" || w == "elif" || w == "do" || w == "!" || w == "time") {
                    // stays in command position
                } else if (assignment_head(w)) {
                    // NAME=value before a command: still in command position
                } else {
                    cmdpos = false;
                }
            }
            advance();
        }
    }

    // ---- statements --------------------------------------------------------------------

    struct Item {
        enum Kind { Assign, Array, Word } kind;
        Tok tok;
        AssignHead head;
        std::vector<Tok> elems;   ///< for Array
    };

    void statement() {
        Tok first = cur_;
        if (blank_cr_line(first) || compound_or_function(first)) return;
        SimpleCommand cmd = collect_simple(first);
        if (!cmd.problem.empty()) {
            needs(cmd.problem_line, cmd.problem);
            skip(false);
            return;
        }
        apply(cmd);
    }

    // The "\r" of an empty CRLF line: bash fails to run the command $'\r' and moves on, which changes no
    // variable. Treated as a blank line.
    bool blank_cr_line(const Tok& first) {
        if (first.kind != Tok::Word || first.text != "\r") return false;
        const Tok& p = peek();
        if (p.kind != Tok::Newline && p.kind != Tok::End) return false;
        advance();
        return true;
    }

    // A subshell, redirection, compound command or function definition: it needs a shell (skipped).
    bool compound_or_function(const Tok& first) {
        if (first.kind == Tok::Op) {
            if (first.text == "(") {
                const Tok& p = peek();
                bool arith = p.kind == Tok::Op && p.text == "(" && p.begin == first.end;
                needs(first.line, arith ? "arithmetic command" : "subshell");
            } else if (is_redirection(first)) {
                needs(first.line, "redirection");
            } else {
                needs(first.line, "unexpected '" + first.text + "'");
                advance();
            }
            skip();
            return true;
        }
        static const std::map<std::string, std::string> compound = {
            {"if", "if statement"},   {"case", "case statement"},      {"for", "for loop"},
            {"while", "while loop"},  {"until", "until loop"},         {"select", "select loop"},
            {"{", "command group"},   {"[[", "conditional command"},    {"!", "negated command"},
            {"function", "function definition"}, {"time", "command 'time'"}, {"coproc", "command 'coproc'"},
            {"then", "unexpected 'then'"}, {"else", "unexpected 'else'"}, {"elif", "unexpected 'elif'"},
            {"fi", "unexpected 'fi'"}, {"do", "unexpected 'do'"}, {"done", "unexpected 'done'"},
            {"esac", "unexpected 'esac'"}, {"}", "unexpected '}'"}, {"in", "unexpected 'in'"}};
        if (auto it = compound.find(first.text); it != compound.end()) {
            needs(first.line, it->second);
            skip();
            return true;
        }
        // name() compound-command
        if (!is_identifier(first.text) && first.text.find_first_of("\"'$`\\") != std::string::npos) return false;
        const Tok& p = peek();
        if (p.kind != Tok::Op || p.text != "(" || assignment_head(first.text)) return false;
        needs(first.line, "function definition '" + shorten(first.text) + "'");
        advance();   // name
        advance();   // (
        if (cur_.kind == Tok::Op && cur_.text == ")") advance();
        while (cur_.kind == Tok::Newline) advance();
        skip();
        return true;
    }

    // A simple command, collected: its items, and why it needs a shell ("" when it does not).
    struct SimpleCommand {
        std::vector<Item> items;
        std::string problem;
        int problem_line = 0;
        int redir_line = 0;   ///< reported only if nothing more telling is found
        std::size_t start = 0;  ///< the first item after export/readonly
        bool decl = false, ro = false;
    };

    // NAME=( ... ) after its "(": the elements up to ")"; false when it is not closed as bash wants.
    bool collect_array(Item& it) {
        advance();
        while (cur_.kind != Tok::End) {
            if (cur_.kind == Tok::Newline) {
                advance();
            } else if (cur_.kind == Tok::Word) {
                it.elems.push_back(cur_);
                advance();
            } else if (cur_.kind == Tok::Op && cur_.text == ")") {
                // bash glues text right after the ")" to the word, which then is no compound
                // assignment at all (`A=(x)y`, or `A=(x)\r` in CRLF files).
                std::size_t after = cur_.end;
                advance();
                return after >= text_.size() || is_meta(text_[after]);
            } else {
                return false;
            }
        }
        return false;
    }

    SimpleCommand collect_simple(const Tok& first) {
        SimpleCommand c;
        c.problem_line = first.line;
        while (!is_separator(cur_)) {
            Tok t = cur_;
            if (t.kind == Tok::Op) {
                if (is_redirection(t)) {
                    if (!c.redir_line) c.redir_line = t.line;
                    advance();
                    if (cur_.kind == Tok::Word) advance();
                    continue;
                }
                if (c.problem.empty()) c.problem = "unexpected '" + t.text + "'", c.problem_line = t.line;
                break;   // ( or ) out of place: let skip() handle the nesting
            }
            auto head = assignment_head(t.text);
            bool is_cmd_word = !c.items.empty() && c.items.front().kind == Item::Word &&
                               c.items.front().tok.text != "export" && c.items.front().tok.text != "readonly";
            advance();
            if (head && !is_cmd_word && head->value_off == t.text.size() && cur_.kind == Tok::Op &&
                cur_.text == "(" && cur_.begin == t.end) {
                Item it{Item::Array, t, *head, {}};
                if (!collect_array(it)) {
                    if (c.problem.empty()) c.problem = "array assignment", c.problem_line = t.line;
                    break;
                }
                c.items.push_back(std::move(it));
            } else if (head && !is_cmd_word) {
                c.items.push_back({Item::Assign, t, *head, {}});
            } else {
                c.items.push_back({Item::Word, t, {}, {}});
            }
        }
        classify(c, cur_);
        return c;
    }

    // What kind of command it is (assignments, export/readonly of them, or anything else), and why it
    // needs a shell; `term` is the token that ended it.
    void classify(SimpleCommand& c, const Tok& term) {
        auto& items = c.items;
        if (!items.empty() && items[0].kind == Item::Word &&
            (items[0].tok.text == "export" || items[0].tok.text == "readonly")) {
            c.decl = true;
            c.ro = items[0].tok.text == "readonly";
            c.start = 1;
        }
        if (c.problem.empty()) {
            for (std::size_t i = c.start; i < items.size(); ++i) {
                if (items[i].kind != Item::Word) continue;
                if (c.decl && is_identifier(items[i].tok.text)) continue;
                const std::string& w = items[c.decl ? 0 : i].tok.text;
                c.problem_line = items[c.decl ? 0 : i].tok.line;
                if (c.decl) c.problem = "command '" + w + " " + shorten(items[i].tok.text) + "'";
                else if (w == "." || w == "source") c.problem = "sourcing a file ('" + w + "')";
                else c.problem = "command '" + shorten(w) + "'";
                break;
            }
        }
        if (c.problem.empty() && c.redir_line) {
            c.problem = "redirection";
            c.problem_line = c.redir_line;
        }
        if (c.problem.empty() && term.kind == Tok::Op && term.text != ";") {
            c.problem = "operator '" + term.text + "'";
            c.problem_line = term.line;
        }
    }

    void apply(SimpleCommand& c) {
        for (std::size_t i = c.start; i < c.items.size(); ++i) {
            Item& it = c.items[i];
            if (it.kind == Item::Word) {
                if (c.ro) readonly_.insert(it.tok.text);
                continue;
            }
            if (c.decl && it.head.index) {
                // bash: "export: `A[1]': not a valid identifier"
                needs(it.tok.line, "'" + c.items[0].tok.text + "' of an array element");
                continue;
            }
            // Arguments of export/readonly also undergo brace expansion: be as strict as
            // with array elements.
            if (it.kind == Item::Assign) assign(it, c.decl ? Ctx::ArrayElem : Ctx::Scalar);
            else assign_array(it);
            if (c.ro) readonly_.insert(it.head.name);
        }
    }

    void assign(const Item& it, Ctx ctx) {
        const AssignHead& h = it.head;
        int line = it.tok.line;
        if (readonly_.count(h.name)) return needs(line, "assignment to readonly variable '" + h.name + "'");
        std::size_t idx = 0;
        if (h.index) {
            auto p = parse_index(*h.index);
            if (!p) return needs(line, "array index '" + shorten(*h.index) + "'");
            idx = *p;
        }
        Expander ex(raw_, presets_);
        Expanded e = ex.expand(std::string_view(it.tok.text).substr(h.value_off), ctx);
        if (!e.why.empty()) return needs(line, e.why);
        note_unset(e);
        std::string& slot = raw_[h.name][idx];
        if (h.append) slot += e.value;
        else slot = e.value;
        out_.assignments.push_back({h.name, h.index.has_value(), idx, slot, line});
    }

    void assign_array(const Item& it) {
        const AssignHead& h = it.head;
        int line = it.tok.line;
        if (h.index) return needs(line, "list assigned to an array element");
        if (readonly_.count(h.name)) return needs(line, "assignment to readonly variable '" + h.name + "'");
        // Evaluate every element first: a failure leaves the variable untouched.
        Expander ex(raw_, presets_);
        std::map<std::size_t, std::string> fresh;
        std::vector<DeclAssignment> done;
        std::size_t next = 0;
        if (h.append) {
            if (auto v = raw_.find(h.name); v != raw_.end() && !v->second.empty()) {
                fresh = v->second;
                next = fresh.rbegin()->first + 1;
            }
        }
        for (const Tok& el : it.elems) {
            std::string_view w = el.text;
            std::optional<std::size_t> explicit_idx;
            if (!w.empty() && w[0] == '[') {
                auto close = w.find("]=");
                std::optional<std::size_t> p;
                if (close != std::string_view::npos) p = parse_index(std::string(w.substr(1, close - 1)));
                if (!p) return needs(el.line, "array element '" + shorten(std::string(w)) + "'");
                explicit_idx = p;
                w.remove_prefix(close + 2);
            }
            Expanded e = ex.expand(w, Ctx::ArrayElem);
            if (!e.why.empty()) return needs(el.line, e.why);
            note_unset(e);
            if (!explicit_idx && !e.quoted && e.value.empty()) continue;   // empty unquoted word vanishes
            std::size_t idx = explicit_idx ? *explicit_idx : next;
            next = idx + 1;
            fresh[idx] = e.value;
            done.push_back({h.name, true, idx, e.value, el.line});
        }
        if (fresh.empty()) raw_.erase(h.name);   // NAME=() : no element, so not set as far as we care
        else raw_[h.name] = std::move(fresh);
        for (auto& d : done) out_.assignments.push_back(std::move(d));
    }

    void note_unset(const Expanded& e) {
        for (auto& n : e.unset)
            if (std::find(out_.unset_expanded.begin(), out_.unset_expanded.end(), n) == out_.unset_expanded.end())
                out_.unset_expanded.push_back(n);
    }

    std::string_view text_;
    Lexer lx_;
    Tok cur_;
    std::vector<Tok> look_;
    std::map<std::string, std::string> presets_;
    RawVars raw_;
    std::set<std::string> readonly_;
    DeclConf out_;
};

}  // namespace

DeclConf read_declarative(std::string_view text, const ShellPresets& presets) {
    try {
        return Parser(text, presets).run();
    } catch (const std::exception& e) {
        // Defensive: the reader must never throw for bad input.
        DeclConf c;
        c.needs_shell.push_back({1, std::string("unreadable: ") + e.what()});
        return c;
    }
}

}  // namespace dkms
