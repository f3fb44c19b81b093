// SPDX-License-Identifier: GPL-2.0-or-later
// gzip, xz, zstd and bzip2 in memory, with a hard cap on what decompression may produce.
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>

#include "dkms/archive/archive.hpp"
#include "dkms/sys/dynlib.hpp"

namespace dkms::archive {

namespace {

// The compression libraries are loaded when an archive or a compressed module is first read or
// written, not by the dynamic loader at every start of dkms-run (docs/performance.md). zlib's
// inflateInit2 and deflateInit2 are macros over the functions with a trailing underscore.
#define DKMS_ZLIB_FUNCTIONS(X) X(inflateInit2_) X(inflate) X(inflateEnd) X(inflateReset) X(deflateInit2_) \
    X(deflateBound) X(deflate) X(deflateEnd)
#define DKMS_LZMA_FUNCTIONS(X) X(lzma_stream_decoder) X(lzma_code) X(lzma_end) X(lzma_stream_buffer_bound) \
    X(lzma_easy_buffer_encode)
#define DKMS_ZSTD_FUNCTIONS(X) X(ZSTD_createDStream) X(ZSTD_freeDStream) X(ZSTD_initDStream) \
    X(ZSTD_DCtx_setParameter) X(ZSTD_decompressStream) X(ZSTD_isError) X(ZSTD_compressBound) X(ZSTD_compress)
#define DKMS_BZ2_FUNCTIONS(X) X(BZ2_bzDecompressInit) X(BZ2_bzDecompress) X(BZ2_bzDecompressEnd) \
    X(BZ2_bzBuffToBuffCompress)

struct Zlib {
    DKMS_LIBRARY_POINTERS(DKMS_ZLIB_FUNCTIONS)
};
struct Lzma {
    DKMS_LIBRARY_POINTERS(DKMS_LZMA_FUNCTIONS)
};
struct Zstd {
    DKMS_LIBRARY_POINTERS(DKMS_ZSTD_FUNCTIONS)
};
struct Bz2 {
    DKMS_LIBRARY_POINTERS(DKMS_BZ2_FUNCTIONS)
};

// Each loaded on its first use (a failed load throws, and is tried again by the next call):
// `const Type& fn()`, the library SONAME of the Debian package PACKAGE.
#define DKMS_LOADER(Type, fn, FUNCTIONS, soname, package)                                  \
    const Type& fn() {                                                                   \
        static const Type loaded = [] {                                                  \
            Type l{};                                                                    \
            DKMS_LIBRARY_RESOLVE(FUNCTIONS, l, load_library(soname, package), soname);  \
            return l;                                                                    \
        }();                                                                             \
        return loaded;                                                                   \
    }
DKMS_LOADER(Zlib, zlib, DKMS_ZLIB_FUNCTIONS, "libz.so.1", "zlib1g")
DKMS_LOADER(Lzma, lzma, DKMS_LZMA_FUNCTIONS, "liblzma.so.5", "liblzma5")
DKMS_LOADER(Zstd, zstd, DKMS_ZSTD_FUNCTIONS, "libzstd.so.1", "libzstd1")
DKMS_LOADER(Bz2, bz2, DKMS_BZ2_FUNCTIONS, "libbz2.so.1.0", "libbz2-1.0")
#undef DKMS_LOADER

bool ends_with(const std::string& s, std::string_view suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

[[noreturn]] void too_big(const Limits& lim) {
    throw ArchiveError("", "uncompressed size exceeds the limit of " + std::to_string(lim.max_bytes) +
                               " bytes; refusing the archive");
}

[[noreturn]] void corrupt(const char* what) {
    throw ArchiveError("", std::string("corrupt ") + what + " data");
}

constexpr std::size_t chunk = 1 << 16;

std::string gunzip(std::string_view in, const Limits& lim) {
    z_stream z{};
    if (zlib().inflateInit2_(&z, 15 + 32, ZLIB_VERSION, int(sizeof(z_stream))) != Z_OK) corrupt("gzip");
    std::unique_ptr<z_stream, void (*)(z_stream*)> guard(&z, [](z_stream* p) { zlib().inflateEnd(p); });
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = uInt(in.size());
    std::string out;
    char buf[chunk];
    while (true) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = chunk;
        int r = zlib().inflate(&z, Z_NO_FLUSH);
        if (r != Z_OK && r != Z_STREAM_END) corrupt("gzip");
        out.append(buf, chunk - z.avail_out);
        if (out.size() > lim.max_bytes) too_big(lim);
        if (r == Z_STREAM_END) {
            if (z.avail_in == 0) break;
            zlib().inflateReset(&z);  // concatenated gzip members
        } else if (z.avail_in == 0 && z.avail_out != 0) {
            corrupt("gzip (truncated)");
        }
    }
    return out;
}

std::string unxz(std::string_view in, const Limits& lim) {
    lzma_stream z = LZMA_STREAM_INIT;
    if (lzma().lzma_stream_decoder(&z, 1ull << 30, LZMA_CONCATENATED) != LZMA_OK) corrupt("xz");
    std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&z, [](lzma_stream* p) { lzma().lzma_end(p); });
    z.next_in = reinterpret_cast<const uint8_t*>(in.data());
    z.avail_in = in.size();
    std::string out;
    uint8_t buf[chunk];
    while (true) {
        z.next_out = buf;
        z.avail_out = chunk;
        lzma_ret r = lzma().lzma_code(&z, z.avail_in ? LZMA_RUN : LZMA_FINISH);
        out.append(reinterpret_cast<char*>(buf), chunk - z.avail_out);
        if (out.size() > lim.max_bytes) too_big(lim);
        if (r == LZMA_STREAM_END) break;
        if (r != LZMA_OK) corrupt("xz");
    }
    return out;
}

std::string unzstd(std::string_view in, const Limits& lim) {
    std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> d(zstd().ZSTD_createDStream(), zstd().ZSTD_freeDStream);
    if (!d) corrupt("zstd");
    zstd().ZSTD_initDStream(d.get());
    zstd().ZSTD_DCtx_setParameter(d.get(), ZSTD_d_windowLogMax, 27);
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    std::string out;
    char buf[chunk];
    size_t last = 1;
    while (ib.pos < ib.size) {
        ZSTD_outBuffer ob{buf, chunk, 0};
        last = zstd().ZSTD_decompressStream(d.get(), &ob, &ib);
        if (zstd().ZSTD_isError(last)) corrupt("zstd");
        out.append(buf, ob.pos);
        if (out.size() > lim.max_bytes) too_big(lim);
    }
    while (last != 0) {  // flush what is still buffered
        ZSTD_outBuffer ob{buf, chunk, 0};
        last = zstd().ZSTD_decompressStream(d.get(), &ob, &ib);
        if (zstd().ZSTD_isError(last)) corrupt("zstd");
        if (ob.pos == 0 && last != 0) corrupt("zstd (truncated)");
        out.append(buf, ob.pos);
        if (out.size() > lim.max_bytes) too_big(lim);
    }
    return out;
}

std::string bunzip2(std::string_view in, const Limits& lim) {
    bz_stream z{};
    if (bz2().BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) corrupt("bzip2");
    std::unique_ptr<bz_stream, void (*)(bz_stream*)> guard(&z, [](bz_stream* p) { bz2().BZ2_bzDecompressEnd(p); });
    z.next_in = const_cast<char*>(in.data());
    z.avail_in = unsigned(in.size());
    std::string out;
    char buf[chunk];
    while (true) {
        z.next_out = buf;
        z.avail_out = chunk;
        int r = bz2().BZ2_bzDecompress(&z);
        if (r != BZ_OK && r != BZ_STREAM_END) corrupt("bzip2");
        out.append(buf, chunk - z.avail_out);
        if (out.size() > lim.max_bytes) too_big(lim);
        if (r == BZ_STREAM_END) break;
        if (z.avail_in == 0 && z.avail_out != 0) corrupt("bzip2 (truncated)");
    }
    return out;
}

bool starts(std::string_view d, std::string_view magic) { return d.substr(0, magic.size()) == magic; }

}  // namespace

Compression compression_for_name(const std::string& n) {
    if (ends_with(n, ".tar")) return Compression::None;
    if (ends_with(n, ".tar.gz") || ends_with(n, ".tgz")) return Compression::Gzip;
    if (ends_with(n, ".tar.xz") || ends_with(n, ".txz")) return Compression::Xz;
    if (ends_with(n, ".tar.zst") || ends_with(n, ".tzst")) return Compression::Zstd;
    if (ends_with(n, ".tar.bz2") || ends_with(n, ".tbz2")) return Compression::Bzip2;
    return Compression::None;  // as tar -a does for a name it does not know
}

std::string decompress(std::string_view d, const Limits& lim) {
    if (starts(d, "\x1f\x8b")) return gunzip(d, lim);
    if (starts(d, std::string_view("\xfd" "7zXZ\0", 6))) return unxz(d, lim);
    if (starts(d, "\x28\xb5\x2f\xfd")) return unzstd(d, lim);
    if (starts(d, "BZh")) return bunzip2(d, lim);
    if (d.size() > lim.max_bytes) too_big(lim);
    return std::string(d);
}

std::string compress(std::string_view in, Compression c) {
    std::string out;
    switch (c) {
        case Compression::None:
            return std::string(in);
        case Compression::Gzip: {
            z_stream z{};
            // windowBits 15+16: a gzip wrapper with no name and mtime 0.
            if (zlib().deflateInit2_(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                                     int(sizeof(z_stream))) != Z_OK)
                throw Error(ExitCode::InstallFailed, "gzip: cannot initialise");
            out.resize(zlib().deflateBound(&z, uLong(in.size())) + 64);
            z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
            z.avail_in = uInt(in.size());
            z.next_out = reinterpret_cast<Bytef*>(out.data());
            z.avail_out = uInt(out.size());
            int r = zlib().deflate(&z, Z_FINISH);
            out.resize(z.total_out);
            zlib().deflateEnd(&z);
            if (r != Z_STREAM_END) throw Error(ExitCode::InstallFailed, "gzip: compression failed");
            return out;
        }
        case Compression::Xz: {
            out.resize(lzma().lzma_stream_buffer_bound(in.size()));
            size_t pos = 0;
            if (lzma().lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(in.data()),
                                        in.size(), reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()) != LZMA_OK)
                throw Error(ExitCode::InstallFailed, "xz: compression failed");
            out.resize(pos);
            return out;
        }
        case Compression::Zstd: {
            out.resize(zstd().ZSTD_compressBound(in.size()));
            size_t n = zstd().ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 19);
            if (zstd().ZSTD_isError(n)) throw Error(ExitCode::InstallFailed, "zstd: compression failed");
            out.resize(n);
            return out;
        }
        case Compression::Bzip2: {
            unsigned n = unsigned(in.size() + in.size() / 100 + 600);
            out.resize(n);
            if (bz2().BZ2_bzBuffToBuffCompress(out.data(), &n, const_cast<char*>(in.data()), unsigned(in.size()), 9, 0, 0) !=
                BZ_OK)
                throw Error(ExitCode::InstallFailed, "bzip2: compression failed");
            out.resize(n);
            return out;
        }
    }
    return out;
}

std::vector<Member> read_archive(std::string_view file_bytes, const Limits& limits) {
    return read_tar(decompress(file_bytes, limits), limits);
}

}  // namespace dkms::archive
