// SPDX-License-Identifier: GPL-2.0-or-later
// libcrypto, loaded when first needed (signature checks, doctor's key checks, .deb checksums).
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

#include "dkms/sys/dynlib.hpp"

namespace dkms {

// Every libcrypto function dkms-run calls. OpenSSL's macros over them (sk_X509_push, BIO_get_mem_data)
// are spelt out at the call sites with the functions they expand to.
#define DKMS_LIBCRYPTO_FUNCTIONS(X)                                                                               \
    X(ERR_get_error) X(ERR_error_string_n) X(ERR_clear_error) X(BIO_new) X(BIO_s_mem) X(BIO_new_mem_buf)          \
    X(BIO_free) X(BIO_ctrl) X(d2i_X509) X(X509_free) X(PEM_read_bio_X509) X(X509_get0_notAfter) X(X509_cmp_time) \
    X(X509_check_private_key) X(ASN1_TIME_print) X(d2i_AutoPrivateKey) X(PEM_read_bio_PrivateKey)                \
    X(EVP_PKEY_free) X(d2i_CMS_bio) X(CMS_ContentInfo_free) X(CMS_verify) X(OPENSSL_sk_new_null)                 \
    X(OPENSSL_sk_push) X(OPENSSL_sk_free) X(EVP_Digest) X(EVP_md5)

/// libcrypto's functions, by their own names and types. Not linked: dkms-run's start-up would load
/// and relocate all of libcrypto for every command (a third of `--version`, docs/performance.md),
/// while only build (checking the signatures it appends), doctor and mkbmdeb use it.
struct Libcrypto {
    DKMS_LIBRARY_POINTERS(DKMS_LIBCRYPTO_FUNCTIONS)
};

/// libcrypto, loaded (dlopen) on the first call. Throws Error naming the library and its package when
/// it cannot be loaded or lacks a function.
const Libcrypto& libcrypto();

/// OpenSSL's last error as text ("unknown OpenSSL error" when there is none), clearing the queue.
std::string openssl_error();

}  // namespace dkms
