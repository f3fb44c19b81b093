// SPDX-License-Identifier: GPL-2.0-or-later
// Error formatting helpers.
#include <cstring>

#include "dkms/error.hpp"

namespace dkms {

SystemError::SystemError(std::string what, int err)
    : Error(ExitCode::Error, what + ": " + std::strerror(err)), err_(err) {}

}  // namespace dkms
