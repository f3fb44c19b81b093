// SPDX-License-Identifier: GPL-2.0-or-later
// Catch2 v2 main for the unit-tests binary.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
