// tb_engine.cpp -- C-simulation testbench of the layer-sequential engine.
//
//   tb_engine program.bin weights.bin images.bin N H W outputs.bin [iters.txt]
//
// Plays the PS's part: loads the program and the weight blob (what the driver writes to DDR),
// copies each uint8 HWC image (N x H x W x 3, raw bytes) into the arena's input map, runs the
// engine, and appends the output map (N x H*s x W*s x 3 codes, cast to uint8 like the golden
// model's astype(uint8)) to outputs.bin. srhw.export.engine.run_engine_csim compares it with
// srhw.quant.golden on every value. Exit status 0 only if every run returned ST_OK.
// Compiled with -DSRHW_COUNT_ITERS, iters.txt receives one line per descriptor: the pipelined-loop
// iterations of the last image's run (srhw.export.engine.cost predicts them).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "srhw_engine.h"

// program.bin header (int32 words), written by srhw.export.engine
enum Header {
    H_MAGIC, H_VERSION, H_DESC_WORDS, H_N_LAYERS, H_ARENA_UNITS,
    H_IN_OFF, H_IN_C, H_IN_T, H_OUT_OFF, H_OUT_C, H_OUT_T, H_OUT_F, H_WEIGHT_WORDS,
    H_LANES, H_SIMD, H_B_LANES, H_B_TSIMD, H_C_LANES, H_C_TSIMD, H_GATHER, H_BEAT, H_PACK,  // the datapath
    H_GCOLS, H_RESERVED1,
    H_WORDS = 24
};
static const int32_t MAGIC = 0x57485253;  // "SRHW"

static std::vector<char> read_file(const char *path) {
    FILE *f = std::fopen(path, "rb");
    if (!f) {
        std::fprintf(stderr, "tb_engine: cannot open %s\n", path);
        std::exit(2);
    }
    std::vector<char> buf;
    char chunk[1 << 16];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) buf.insert(buf.end(), chunk, chunk + n);
    std::fclose(f);
    return buf;
}

static std::vector<int32_t> words(const std::vector<char> &b) {
    std::vector<int32_t> w(b.size() / 4);
    for (size_t i = 0; i < w.size(); i++) {  // little-endian, whatever the host
        const unsigned char *p = reinterpret_cast<const unsigned char *>(&b[4 * i]);
        w[i] = int32_t(uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24));
    }
    return w;
}

int main(int argc, char **argv) {
    if (argc != 8 && argc != 9) {
        std::fprintf(stderr, "usage: %s program.bin weights.bin images.bin N H W outputs.bin [iters.txt]\n", argv[0]);
        return 2;
    }
    const std::vector<int32_t> prog = words(read_file(argv[1]));
    const std::vector<int32_t> wts = words(read_file(argv[2]));
    const std::vector<char> images = read_file(argv[3]);
    const int n = std::atoi(argv[4]), h = std::atoi(argv[5]), w = std::atoi(argv[6]);
    if (prog.size() < H_WORDS || prog[H_MAGIC] != MAGIC || prog[H_DESC_WORDS] != SRHW_DESC_WORDS ||
        prog.size() != size_t(H_WORDS + prog[H_N_LAYERS] * SRHW_DESC_WORDS)) {
        std::fprintf(stderr, "tb_engine: %s is not a program for this engine\n", argv[1]);
        return 2;
    }
    if (prog[H_LANES] != SRHW_LANES || prog[H_SIMD] != SRHW_SIMD || prog[H_B_LANES] != SRHW_B_LANES ||
        prog[H_B_TSIMD] != SRHW_TSIMD || prog[H_C_LANES] != SRHW_C_LANES || prog[H_C_TSIMD] != SRHW_C_TSIMD ||
        prog[H_GATHER] != SRHW_GATHER || prog[H_BEAT] != SRHW_BEAT || prog[H_PACK] != SRHW_PACK ||
        prog[H_GCOLS] != SRHW_GCOLS) {
        std::fprintf(stderr, "tb_engine: %s is laid out for another datapath (srhw_config.h)\n", argv[1]);
        return 2;
    }
    const int c = prog[H_IN_C];  // 3 (RGB) or 1 (a Y-channel network)
    if (int64_t(wts.size()) != prog[H_WEIGHT_WORDS] || int64_t(images.size()) != int64_t(n) * h * w * c ||
        (c != 1 && c != 3) || prog[H_IN_T] != T_U8 || prog[H_OUT_C] != c) {
        std::fprintf(stderr, "tb_engine: weights or images do not match the program\n");
        return 2;
    }
    const uint64_t unit = srhw_unit(h, w);
    std::vector<uint8_t> arena(uint64_t(prog[H_ARENA_UNITS]) * unit);
    const int f = prog[H_OUT_F], ho = h * f, wo = w * f;
    std::vector<uint8_t> out(size_t(n) * ho * wo * c);
    for (int i = 0; i < n; i++) {
        std::memset(arena.data(), 0, arena.size());
        std::memcpy(&arena[uint64_t(prog[H_IN_OFF]) * unit], &images[size_t(i) * h * w * c], size_t(h) * w * c);
        const int st = srhw_engine(&prog[H_WORDS], prog[H_N_LAYERS], wts.data(), arena.data(), arena.data(), arena.data(), h, w);
        if (st != ST_OK) {
            std::fprintf(stderr, "tb_engine: image %d: engine status 0x%x (layer %d, code %d)\n", i, st, (st >> 8) - 1,
                         st & 0xff);
            return 1;
        }
        const uint8_t *o = &arena[uint64_t(prog[H_OUT_OFF]) * unit];
        for (size_t k = 0; k < size_t(ho) * wo * c; k++) {
            const int code = prog[H_OUT_T] == T_S16 ? int(int16_t(uint16_t(o[2 * k]) | (uint16_t(o[2 * k + 1]) << 8)))
                                                    : int(o[k]);
            out[size_t(i) * ho * wo * c + k] = uint8_t(code & 0xff);
        }
    }
    FILE *fo = std::fopen(argv[7], "wb");
    if (!fo || std::fwrite(out.data(), 1, out.size(), fo) != out.size()) {
        std::fprintf(stderr, "tb_engine: cannot write %s\n", argv[7]);
        return 2;
    }
    std::fclose(fo);
    if (argc == 9) {
#ifdef SRHW_COUNT_ITERS
        FILE *fi = std::fopen(argv[8], "w");
        if (!fi) {
            std::fprintf(stderr, "tb_engine: cannot write %s\n", argv[8]);
            return 2;
        }
        for (int i = 0; i < prog[H_N_LAYERS] && i < SRHW_COUNT_LAYERS; i++)
            std::fprintf(fi, "%llu\n", (unsigned long long)srhw_layer_iters[i]);
        std::fclose(fi);
#else
        std::fprintf(stderr, "tb_engine: iters.txt needs a build with -DSRHW_COUNT_ITERS\n");
        return 2;
#endif
    }
    std::printf("tb_engine: %d images of %dx%d -> %dx%d, status OK\n", n, h, w, ho, wo);
    return 0;
}
