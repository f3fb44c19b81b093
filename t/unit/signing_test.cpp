// SPDX-License-Identifier: GPL-2.0-or-later
// Signing helpers that need no kernel: how a signing key is shown.
#include <catch2/catch.hpp>

#include "dkms/signing.hpp"

using namespace dkms;

TEST_CASE("shown_key hides the PIN of a pkcs11: URI, in the query or the path", "[signing]") {
    CHECK(shown_key("pkcs11:token=t;object=k;type=private?pin-value=1234") ==
          "pkcs11:token=t;object=k;type=private?pin-value=(hidden)");
    CHECK(shown_key("pkcs11:token=t;pin-value=1234;object=k") == "pkcs11:token=t;pin-value=(hidden);object=k");
    CHECK(shown_key("pkcs11:pin-value=1?module-name=softhsm2&pin-value=2") ==
          "pkcs11:pin-value=(hidden)?module-name=softhsm2&pin-value=(hidden)");
    CHECK(shown_key("pkcs11:token=t?pin-source=file:/etc/pin") == "pkcs11:token=t?pin-source=file:/etc/pin");
}

TEST_CASE("shown_key leaves key files and lookalike attributes alone", "[signing]") {
    CHECK(shown_key("/var/lib/dkms/mok.key") == "/var/lib/dkms/mok.key");
    CHECK(shown_key("/keys/pin-value=1234.pem") == "/keys/pin-value=1234.pem");
    CHECK(shown_key("pkcs11:object=xpin-value=1") == "pkcs11:object=xpin-value=1");
}
