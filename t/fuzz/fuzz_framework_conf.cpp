// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: reading framework.conf and framework.conf.d/*.conf (load_framework, evaluate_config).
//
// Input: the text of framework.conf; each line that is exactly "@@" starts the next file,
// framework.conf.d/1.conf, 2.conf, ... (at most 8 files). They are written below a private
// scratch root and read as `dkms-run status` reads them.
//
// evaluate_config reads plain files without bash and hands everything else to bash. Here
// process starts fail (see fuzz_support.hpp), so the bash way ends in a SystemError and is
// not looked at further. When the bash-free way was taken, its values must be those bash
// would produce, modelled with the declarative reader the way evaluate_shell runs the files:
// each file is read on its own (a quote left open does not run into the next file), seeing
// the values carried from the files before it, and what it leaves in the whitelisted
// variables is merged element by element into the carried values (so `NAME=()` in a later
// file does not unset what an earlier one set). Each file must then be plain on its own.
//
// Built with FUZZ_AGAINST_BASH (the fuzz-framework_conf-bash test, never a fuzzer), it instead
// compares evaluate_config with evaluate_shell, which really runs bash.
#include <algorithm>

#include "dkms/conf/framework.hpp"
#include "dkms/core/context.hpp"
#include "dkms/core/error.hpp"
#include "dkms/conf/raw_conf.hpp"
#include "fuzz_support.hpp"

using namespace dkms;
namespace fz = dkms::fuzz;

namespace {

std::string single_quoted(const std::string& v) {
    std::string o = "'";
    for (char c : v) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return o + "'";
}

std::string show(const RawVars& v) {
    std::string o;
    for (auto& [n, idxs] : v)
        for (auto& [i, x] : idxs) o += "  " + n + "[" + std::to_string(i) + "]=" + single_quoted(x) + "\n";
    return o.empty() ? "  (nothing)\n" : o;
}

#ifndef FUZZ_AGAINST_BASH
/// What bash gives for these files if each is plain, per the model above; false if one is not.
bool model(const std::vector<std::string>& texts, const ShellPresets& presets, RawVars& carried) {
    const auto& wl = framework_conf_settings();
    for (auto& text : texts) {
        std::string prefix;
        for (auto& [n, idxs] : carried)
            for (auto& [i, x] : idxs) prefix += n + "[" + std::to_string(i) + "]=" + single_quoted(x) + "\n";
        DeclConf d = read_declarative(prefix + text, presets);
        if (!d.plain()) return false;
        for (auto& [n, idxs] : d.vars)
            if (std::find(wl.begin(), wl.end(), n) != wl.end())
                for (auto& [i, x] : idxs) carried[n][i] = x;
    }
    return true;
}
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 16 * 1024) return 0;
    std::vector<std::string_view> parts = fz::split_at_lines(fz::as_text(data, size), "@@");
    if (parts.size() > 8) return 0;

    fz::Scratch scratch;
    Settings s;
    s.root = scratch.path();
    fs::create_directories(s.etc_dkms() / "framework.conf.d");
    std::vector<std::string> texts;
    for (size_t i = 0; i < parts.size(); ++i) {
        fs::path p = i == 0 ? s.etc_dkms() / "framework.conf"
                            : s.etc_dkms() / "framework.conf.d" / (std::to_string(i) + ".conf");
        fz::write_bytes(p, parts[i]);
        texts.emplace_back(parts[i]);
    }
    std::vector<fs::path> files = framework_files(s);
    FUZZ_CHECK(files.size() == parts.size(), "framework_files found " + std::to_string(files.size()) + " files");
    const ShellPresets presets{{"kernelver", ""}, {"arch", ""}};  // as load_framework has them

#ifdef FUZZ_AGAINST_BASH
    // Both read the same values, or both refuse the files (a syntax error, a NUL byte) the same way.
    auto outcome = [&](auto&& read) {
        try {
            return show(read(files, presets, framework_conf_settings(), nullptr));
        } catch (const Error& e) {
            return "refused: " + e.lines().front() + "\n";
        }
    };
    std::string bash = outcome(evaluate_shell), ours = outcome(evaluate_config);
    FUZZ_CHECK(ours == bash, "evaluate_config:\n" + ours + "bash:\n" + bash);
#else
    fz::set_process_starts_fail(true);
    unsigned long before = fz::process_starts_refused();
    RawVars ours;
    try {
        ours = evaluate_config(files, presets, framework_conf_settings());
    } catch (const SystemError&) {
        FUZZ_CHECK(fz::process_starts_refused() > before, "SystemError without a process start");
        return 0;  // went to bash
    } catch (const Error& e) {
        // Refused before any reading: only a file with a NUL byte can be (the input is small).
        bool nul = std::any_of(texts.begin(), texts.end(), [](auto& t) { return t.find('\0') != std::string::npos; });
        FUZZ_CHECK(e.code() == ExitCode::BadConf && nul, "evaluate_config refused the files: " + e.lines().front());
        return 0;
    }
    FUZZ_CHECK(fz::process_starts_refused() == before, "a process start failed but evaluate_config went on");
    RawVars expected;
    FUZZ_CHECK(model(texts, presets, expected), "read without bash, but a file is not plain on its own");
    FUZZ_CHECK(ours == expected, "evaluate_config:\n" + show(ours) + "expected:\n" + show(expected));

    // The settings come from the same reading.
    Settings loaded = s;
    load_framework(loaded);
    auto it = ours.find("dkms_tree");
    if (it != ours.end() && it->second.count(0) && !it->second.at(0).empty())
        FUZZ_CHECK(loaded.dkms_tree == it->second.at(0), "load_framework: dkms_tree");
    (void)loaded.make_jobs();
#endif
    return 0;
}
