// SPDX-License-Identifier: GPL-2.0-or-later
// Writes the archive and manifest seeds of t/fuzz/corpus with the project's own writers
// (write_tar, compress, write_manifest). Run by t/fuzz/make-seeds; not a test.
#include <cstdio>

#include "dkms/archive/archive.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/tree/tree.hpp"

using namespace dkms;
using namespace dkms::archive;

namespace {

Member dir(std::string p) { return {std::move(p), MemberType::Directory, 0755, {}, {}, 0}; }
Member file(std::string p, std::string data, unsigned mode = 0644) {
    return {std::move(p), MemberType::File, mode, std::move(data), {}, 0};
}
Member link(std::string p, std::string target) {
    return {std::move(p), MemberType::Symlink, 0777, {}, std::move(target), 0};
}

// A tar without write_tar's padding to a 10 KiB record: data, then the two zero blocks that end it.
std::string trimmed(std::string tar) {
    while (!tar.empty() && tar.back() == '\0') tar.pop_back();
    tar.resize((tar.size() + 511) / 512 * 512 + 1024, '\0');
    return tar;
}

void put(const fs::path& p, const std::string& bytes) {
    write_file_atomic(p, bytes, 0644);
    std::printf("%s (%zu bytes)\n", p.c_str(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    fs::path corpus = argv[1];
    const std::int64_t when = 1700000000;

    // The layout of `mktarball`: sources, and a build for one kernel.
    std::vector<Member> tree = {
        dir("dkms_source_tree"),
        file("dkms_source_tree/dkms.conf", "PACKAGE_NAME=foo\nPACKAGE_VERSION=1.0\nAUTOINSTALL=yes\n"),
        file("dkms_source_tree/Makefile", "obj-m := foo.o\n"),
        file("dkms_source_tree/foo.c", "int x;\n"),
        dir("dkms_main_tree/6.1.0-9-amd64/x86_64/module"),
        file("dkms_main_tree/6.1.0-9-amd64/x86_64/module/foo.ko", "\x7f" "ELF", 0644),
        file("dkms_main_tree/6.1.0-9-amd64/x86_64/log/make.log", "make: ok\n"),
    };
    std::string tar = write_tar(tree, when);
    fs::path a = corpus / "archive";
    put(a / "mktarball.tar", trimmed(tar));
    put(a / "mktarball.tar.gz", compress(tar, Compression::Gzip));
    put(a / "mktarball.tar.xz", compress(tar, Compression::Xz));
    put(a / "mktarball.tar.zst", compress(tar, Compression::Zstd));
    put(a / "mktarball.tar.bz2", compress(tar, Compression::Bzip2));

    // GNU long names (path and link target over 100 bytes), relative symlinks, modes.
    std::string deep = "a/" + std::string(60, 'd') + "/" + std::string(60, 'e');
    std::vector<Member> odd = {
        dir(deep),
        file(deep + "/file-with-a-long-path", "long\n", 0755),
        link("a/up", "../a/" + std::string(60, 'd') + "/" + std::string(60, 'e') + "/file-with-a-long-path"),
        link("a/here", "."),
        file("b", ""),
    };
    put(a / "long-names.tar", trimmed(write_tar(odd, when)));
    // Odd length: the fuzz target recomputes header checksums for such inputs.
    put(a / "odd-length.tar", trimmed(write_tar(odd, when)) + "\n");

    fs::path m = corpus / "manifest";
    Manifest built{1, "foo", "1.0", "6.1.0-9-amd64", "x86_64", "make -j4 KERNELRELEASE=6.1.0-9-amd64", {}};
    built.files.push_back({"foo.ko", std::string(64, 'a'), ""});
    fs::path tmp = make_temp_dir("/tmp", "gen-seeds-");
    write_manifest(tmp, built);
    put(m / "built.yaml", read_file(tmp / manifest_name));
    Manifest inst = built;
    inst.files.push_back({"foo_usb.ko.xz", std::string(64, 'b'),
                          "/lib/modules/6.1.0-9-amd64/updates/dkms/foo_usb.ko.xz"});
    inst.files[0].installed_to = "/lib/modules/6.1.0-9-amd64/updates/dkms/foo.ko";
    write_manifest(tmp, inst);
    put(m / "installed.yaml", read_file(tmp / manifest_name));
    remove_tree(tmp);
    return 0;
}
