// SPDX-License-Identifier: GPL-2.0-or-later
// Shared by the fuzz targets: a private scratch directory per input, invariant checks, input helpers.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

/// The libFuzzer entry point every fuzz_<name>.cpp defines.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace dkms::fuzz {

namespace fs = std::filesystem;

/// Report a broken invariant and abort: libFuzzer saves the input as a crash.
[[noreturn]] void fail(const char* where, const std::string& what);

#define FUZZ_STR2(x) #x
#define FUZZ_STR(x) FUZZ_STR2(x)
/// Abort with `what` when `cond` does not hold (always on, also in release builds).
#define FUZZ_CHECK(cond, what) \
    do { \
        if (!(cond)) ::dkms::fuzz::fail(__FILE__ ":" FUZZ_STR(__LINE__) ": " #cond, (what)); \
    } while (0)

/// A fresh, empty directory for one input. The first one made in a process creates a private
/// mkdtemp directory in $TMPDIR (or /tmp), removed again at exit; each Scratch is a new
/// directory below it, removed with everything in it when the Scratch goes out of scope.
/// Going out of scope it also checks that no file descriptor opened meanwhile was left open.
class Scratch {
public:
    Scratch();
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    const fs::path& path() const { return path_; }
    /// Does `p` (an absolute path, resolved through the symlinks that exist) stay inside this directory?
    bool contains(const fs::path& p) const;

private:
    std::bitset<256> fds_;
    fs::path path_;
};

/// Process starts (fork, vfork, posix_spawn*) abort the fuzz target by default. A target whose
/// code may legitimately decide to run bash sets this: starts then fail with EPERM (the engine
/// throws SystemError) and are counted, so the target can tell which way the code went.
void set_process_starts_fail(bool fail_quietly);
/// How many process starts were refused so far.
unsigned long process_starts_refused();

/// The input bytes as text.
inline std::string_view as_text(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// Create (or truncate) `p` holding exactly `bytes`; throws std::runtime_error on failure.
void write_bytes(const fs::path& p, std::string_view bytes);

/// Split `text` at the lines that are exactly `sep`; the separator lines are dropped.
std::vector<std::string_view> split_at_lines(std::string_view text, std::string_view sep);

}  // namespace dkms::fuzz
