// SPDX-License-Identifier: GPL-2.0-or-later
// Typed errors thrown by the engine; each carries the exit code dkms 3.4 uses for it.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace dkms {

/// Exit codes of upstream dkms 3.4 (see docs/exit-codes.md). Scripts depend on these numbers.
enum class ExitCode : int {
    Ok = 0,
    Error = 1,             ///< generic failure, not root, tree not writable, m/v not given
    Usage = 2,             ///< unknown option, missing source directory, missing archive
    NotFound = 3,          ///< already added, m/v not in tree, -a with --all
    ConfMissing = 4,       ///< dkms.conf not found, more than one action, module broken
    Unsupported = 5,       ///< --all not supported here, patch not found
    InstallFailed = 6,     ///< install aborted, kernel dir missing, patch failed
    ModuleMissing = 7,     ///< built .ko missing after make
    BadConf = 8,           ///< dkms.conf does not validate
    NoDkmsConf = 9,        ///< source directory has no dkms.conf
    BuildFailed = 10,      ///< make failed, malformed dkms.conf when loading source
    AutoinstallFailed = 11,
    NoArch = 12,
    MissingDepends = 13,
    KernelHookFailed = 14,
    CdFailed = 15,
    EmptyKernel = 16,
    HeadersMissing = 21,
    BuildExcluded = 77,    ///< BUILD_EXCLUSIVE does not match this kernel
    PreInstallFailed = 101,
};

/// An error for the user. `lines` are printed after "Error! " one per line, as dkms's die() does.
class Error : public std::runtime_error {
public:
    Error(ExitCode code, std::vector<std::string> lines)
        : std::runtime_error(lines.empty() ? std::string() : lines.front()), code_(code), lines_(std::move(lines)) {}
    Error(ExitCode code, std::initializer_list<std::string> lines) : Error(code, std::vector<std::string>(lines)) {}
    Error(ExitCode code, std::string line) : Error(code, std::vector<std::string>{std::move(line)}) {}

    ExitCode code() const noexcept { return code_; }
    const std::vector<std::string>& lines() const noexcept { return lines_; }
    /// The log of the step that failed (a build's make.log), when a step failed; else empty. Code
    /// that explains or records a failure reads this, not the text of the lines.
    const std::filesystem::path& log() const noexcept { return log_; }
    Error& with_log(std::filesystem::path log) {
        log_ = std::move(log);
        return *this;
    }

private:
    ExitCode code_;
    std::vector<std::string> lines_;
    std::filesystem::path log_;
};

/// A command-line usage error (exit 2, followed by the usage text).
class UsageError : public Error {
public:
    explicit UsageError(std::string line) : Error(ExitCode::Usage, std::move(line)) {}
};

/// A configuration file problem with its location.
class ConfigError : public Error {
public:
    ConfigError(ExitCode code, std::string file, int line, std::string msg)
        : Error(code, std::move(msg)), file_(std::move(file)), line_(line) {}
    const std::string& file() const noexcept { return file_; }
    int line() const noexcept { return line_; }

private:
    std::string file_;
    int line_;
};

/// A SIGINT/SIGTERM/SIGHUP arrived (see install_interrupt_handlers): thrown at the next point where
/// the engine checks, so that the stack unwinds and temporary files are removed. Deliberately not an
/// Error, so that the `catch (const Error&)` of code that tolerates failures does not swallow it.
class Interrupted : public std::runtime_error {
public:
    explicit Interrupted(int sig);
    int signal() const noexcept { return sig_; }

private:
    int sig_;
};

/// A system call failed: the message already names the path and strerror(errno).
class SystemError : public Error {
public:
    SystemError(std::string what, int err);
    int err() const noexcept { return err_; }

private:
    int err_;
};

}  // namespace dkms
