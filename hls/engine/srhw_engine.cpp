// srhw_engine.cpp -- the layer-sequential engine: one function per op kind of srhw/quant/golden.py.
//
// Each op function reads its descriptor, loads the layer's parameters from the weight blob into
// on-chip buffers (lane-major, partitioned so the lanes read in parallel), streams the input map
// through a line buffer in SRHW_BEAT-byte beats, and writes the output map back to the arena in beats. Integer semantics
// are golden.py's, operation for operation:
//   rshift_round(v, sh) = (v + 2^(sh-1)) >> sh  (sh >= 1; arithmetic shift; round half up), v for sh = 0
//   round_div(s, n)     = floor((2s + n) / 2n)
#include "srhw_engine.h"

#ifdef SRHW_COUNT_ITERS
uint64_t srhw_iters = 0;
uint64_t srhw_stage[SRHW_N_STAGES];
uint64_t srhw_layer_iters[SRHW_COUNT_LAYERS];
#endif

// ----------------------------------------------------------------------------------------------
// Small helpers
// ----------------------------------------------------------------------------------------------

static inline int round_up(int v, int m) { return (v + m - 1) / m * m; }
static inline int ceil_div(int v, int m) { return (v + m - 1) / m; }

static inline wide_t rshift_round(wide_t v, int sh) {
#pragma HLS INLINE
    if (sh == 0) return v;
    return (v + (wide_t(1) << (sh - 1))) >> sh;
}

static inline act_t clamp(wide_t v, int lo, int hi) {
#pragma HLS INLINE
    return act_t(v < lo ? wide_t(lo) : v > hi ? wide_t(hi) : v);
}

// floor((2s + n) / 2n) for n > 0: the average pool of channel attention (a divider, once per channel)
static inline wide_t round_div(wide_t s, wide_t n) {
    wide_t num = 2 * s + n, den = 2 * n;
    wide_t q = num / den;  // C++ truncates towards zero
    if (num % den != 0 && num < 0) q -= 1;
    return q;
}

// A feature map in the arena: base byte address, channels, storage type, height, width.
struct Fmap {
    uint64_t base;
    int c, t, h, w;
};

static inline Fmap fmap(const int32_t *d, int off, int c, int t, int H, int W, int f) {
    Fmap m;
    m.base = uint64_t(uint32_t(d[off])) * srhw_unit(H, W);
    m.c = d[c];
    m.t = d[t];
    m.h = H * f;
    m.w = W * f;
    return m;
}

static inline act_t fm_load(const uint8_t *arena, const Fmap &m, uint64_t i) {
#pragma HLS INLINE
    if (m.t == T_S16) {
        uint64_t a = m.base + 2 * i;
        return act_t(int16_t(uint16_t(arena[a]) | (uint16_t(arena[a + 1]) << 8)));
    }
    if (m.t == T_S8) return act_t(int8_t(arena[m.base + i]));
    return act_t(arena[m.base + i]);
}

static inline void fm_store(uint8_t *arena, const Fmap &m, uint64_t i, act_t v) {
#pragma HLS INLINE
    if (m.t == T_S16) {
        uint16_t u = uint16_t(int16_t(v));
        arena[m.base + 2 * i] = uint8_t(u & 0xff);
        arena[m.base + 2 * i + 1] = uint8_t(u >> 8);
    } else {
        arena[m.base + i] = uint8_t(int(v) & 0xff);
    }
}

// pixel (y, x), channel ch of an HWC map -> element index
static inline uint64_t hwc(const Fmap &m, int y, int x, int ch) {
    return (uint64_t(y) * uint64_t(m.w) + uint64_t(x)) * uint64_t(m.c) + uint64_t(ch);
}

// weight blob accessors: int8 packed 4 per word, ternary 16 per word, int32 one per word
static inline w8_t blob_w8(const int32_t *wts, int off, int i) {
    uint32_t word = uint32_t(wts[off + i / 4]);
    return w8_t(int8_t((word >> (8 * (i % 4))) & 0xff));
}

static inline tern_t blob_t2(const int32_t *wts, int off, int i) {
    const uint32_t word = uint32_t(wts[off + i / 16]);
    const int code = int((word >> (2 * (i % 16))) & 3);
    return tern_t(code - ((code & 2) << 1));  // 2-bit two's complement: 00 -> 0, 01 -> +1, 11 -> -1
}

static inline int32_t blob_i32(const int32_t *wts, int off, int i) { return wts[off + i]; }

// a ternary term: +x, -x or 0 as the 2-bit code selects -- AND gates in front of an add/sub in LUTs,
// no multiplier (written branch-free: the C-simulation runs it billions of times)
template <typename T>
static inline T tern_term(tern_t w, T x) {
#pragma HLS INLINE
    const T pos = (w == 1) ? x : T(0);
    const T neg = (w == -1) ? x : T(0);
    return pos - neg;
}

// codes of map type t per SRHW_BEAT-byte beat
static inline int per_beat(int t) { return t == T_S16 ? SRHW_BEAT / 2 : SRHW_BEAT; }

// the stage a load counts in: a pixel's dataflow stage, or (-1) a sequential loop of its own
static inline void tick(int stage) {
#ifdef SRHW_COUNT_ITERS
    if (stage < 0)
        SRHW_COUNT();
    else
        SRHW_STAGE(stage);
#endif
}

// ----------------------------------------------------------------------------------------------
// On-chip buffers (BRAM), shared by all layers: sized by srhw_config.h for the program
// ----------------------------------------------------------------------------------------------

// Line buffer: a ring over the input map's pixels in raster order, (KH-1) rows + KW+1 pixels deep -- what the
// window of one output pixel spans, plus the pixel the load stage writes ahead -- channels innermost, in
// SRHW_LB_BITS (the program's widest conv input code, not the 16 bits of a DDR map), reshaped so one word holds
// the SRHW_GATHER channels the gather reads per cycle. 'same' padding is the gather's: taps outside the map read
// as zero, so no pad columns are stored.
// The ring is a multiple of SRHW_GCOLS pixels, the line buffer's pixel banks (cyclic): the GCOLS adjacent taps the
// gather reads per cycle sit in consecutive slots, so in different banks, across the wrap too.
#define SRHW_LB_PIXELS (((SRHW_MAX_K - 1) * SRHW_MAX_W + SRHW_MAX_K + 1 + SRHW_GCOLS - 1) / SRHW_GCOLS * SRHW_GCOLS)
static lb_t line_buf[SRHW_LB_PIXELS][SRHW_MAX_CIN];
static inline int lb_ring(int kh, int kw, int w) { return round_up((kh - 1) * w + 2 * (kw / 2) + 2, SRHW_GCOLS); }
static lb_t window[SRHW_MAX_TAPS];  // one pixel's k*k*c_in/g taps, zero-padded to SIMD / TSIMD (ping-pong)
static hid_t hidden[SRHW_MAX_HID];  // sum-product hidden vector h = accb * a of one group, zero-padded (ping-pong)
static act_t out_buf[SRHW_MAX_COUT];  // one pixel's output codes in store order, before the store (ping-pong)
// channel attention: the per-channel sums of its input (written by its own pool pass, or -- D_SUMS -- by the store of
// the conv / add just before it), the pooled vector, the FC1 outputs, the attention codes
static big_t ca_sum[SRHW_MAX_C];
static big_t ca_pool[SRHW_MAX_C];
static big_t ca_hid[SRHW_MAX_CA_HID];
static ap_uint<16> ca_att[SRHW_MAX_C];

// the running conv's weights, lane-major: lane l holds output channels l, l + LANES, ... of each group,
// reshaped so one word holds the SIMD weights a lane reads per cycle
static w8_t w8_buf[SRHW_LANES][SRHW_W8_PER_LANE];
static acc_t bias_buf[SRHW_LANES][SRHW_MAX_ROWS];
static mult_t mult_buf[SRHW_LANES][SRHW_MAX_ROWS];
static ap_uint<6> shift_buf[SRHW_LANES][SRHW_MAX_ROWS];
#if SRHW_B_LANES > 0
// the running sum-product conv's ternary W_b (lane = hidden channel) with its scales, W_c (lane = output) with
// its bias
static tern_t wb_buf[SRHW_B_LANES][SRHW_T2B_PER_LANE];
static scale_t a_buf[SRHW_B_LANES][SRHW_B_ROWS];
static tern_t wc_buf[SRHW_C_LANES][SRHW_T2C_PER_LANE];
static acc_t cbias_buf[SRHW_C_LANES][SRHW_C_ROWS];
#endif

// Load input pixels [x0, x1) of row yy into the line buffer, one beat (per_beat codes) per cycle. Rows outside
// the map are not loaded (the gather reads them as zero).
static void load_pixels(const uint8_t *arena, const Fmap &in, int ring, int yy, int x0, int x1, int stage) {
    if (yy < 0 || yy >= in.h) return;
    const int e = per_beat(in.t);
load_px:
    for (int x = x0; x < x1 && x < in.w; x++) {
        for (int c0 = 0; c0 < in.c; c0 += e) {
#pragma HLS PIPELINE II = 1
            tick(stage);
            for (int s = 0; s < SRHW_BEAT; s++) {
#pragma HLS UNROLL
                if (s < e && c0 + s < in.c)
                    line_buf[(uint64_t(yy) * in.w + x) % ring][c0 + s] = lb_t(fm_load(arena, in, hwc(in, yy, x, c0 + s)));
            }
        }
    }
}

// The line buffer's share of output pixel (y, x): input pixel (y + ph, x + pw) (at x = 0: columns 0..pw), i.e.
// exactly what the window of (y, x) needs and earlier pixels did not load. Rows 0..ph-1 come before the first pixel.
static void load_for_pixel(const uint8_t *arena, const Fmap &in, int ring, int kh, int kw, int y, int x) {
    const int ph = kh / 2, pw = kw / 2;
    if (x == 0)
        load_pixels(arena, in, ring, y + ph, 0, pw + 1, S_LOAD);
    else
        load_pixels(arena, in, ring, y + ph, x + pw, x + pw + 1, S_LOAD);
}

// Gather the k x k x (c_in/g) window of group `gi` at output (y, x) into `window` (order ky, kx, ci), GATHER
// channels of up to GCOLS horizontally adjacent taps per cycle; taps outside the map are zero. Taps
// [k*k*c_in/g, taps_p) stay zero from clear_window. Several columns per cycle only when one tap's channels fit one
// gather word (cig <= GATHER): the cycle's writes are then one contiguous run of at most GCOLS x GATHER window
// taps (distinct banks of its MAX_PAR-way partition), and its reads GCOLS consecutive ring slots (distinct banks of
// the line buffer's GCOLS-way pixel partition: the ring is a multiple of GCOLS).
static void gather_window(const Fmap &in, int ring, int y, int x, int kh, int kw, int gi, int cig) {
    const int cols = cig <= SRHW_GATHER ? SRHW_GCOLS : 1;
gather:
    for (int ky = 0; ky < kh; ky++) {
        const int yy = y + ky - kh / 2;
        for (int kx0 = 0; kx0 < kw; kx0 += cols) {
            for (int c0 = 0; c0 < cig; c0 += SRHW_GATHER) {
#pragma HLS PIPELINE II = 1
                SRHW_STAGE(S_GATHER);
                for (int j = 0; j < SRHW_GCOLS; j++) {
#pragma HLS UNROLL
                    const int kx = kx0 + j, xx = x + kx - kw / 2;
                    if (j < cols && kx < kw) {
                        const bool inside = yy >= 0 && yy < in.h && xx >= 0 && xx < in.w;
                        const int slot = inside ? int((uint64_t(yy) * in.w + xx) % ring) : 0;
                        const int t = (ky * kw + kx) * cig;
                        for (int s = 0; s < SRHW_GATHER; s++) {
#pragma HLS UNROLL
                            if (c0 + s < cig) window[t + c0 + s] = inside ? line_buf[slot][gi * cig + c0 + s] : lb_t(0);
                        }
                    }
                }
            }
        }
    }
}

// Zero the window's padding taps [taps, taps_p) once per layer (gather_window never writes them).
static void clear_window(int taps, int taps_p) {
pad_w:
    for (int t = taps; t < taps_p; t++) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        window[t] = 0;
    }
}

// The output map of a conv descriptor: its own (r = 1), or -- D_PS = r -- the pixel-shuffled map it writes directly
// (out[c][y*r + i][x*r + j] = conv[c*r*r + i*r + j][y][x]: the shuffle is the store's address map, no pass of its own)
static inline int ps_factor(const int32_t *d) { return d[D_PS] > 1 ? d[D_PS] : 1; }

static inline Fmap stored_map(const int32_t *d, int H, int W) {
    const int r = ps_factor(d);
    Fmap m = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F] * r);
    m.c /= r * r;
    return m;
}

// out_buf position of conv output channel o: grouped by sub-pixel q = o mod r^2, so the store reads contiguous runs
static inline int obuf_index(int o, int rr, int cps) { return (o % rr) * cps + o / rr; }

// D_SUMS on a conv / add: its store also sums each channel of the map it writes into ca_sum, for the channel
// attention right after it (which then skips its own pool pass: one read of the map less)
static void clear_sums(int c) {
clear_sums:
    for (int ch = 0; ch < c; ch++) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        ca_sum[ch] = 0;
    }
}

// The store stage: one pixel's output codes from out_buf to the arena, one beat per cycle (write port); r x r
// sub-pixels of out.c codes each through the shuffle's address map; with `sums`, each code also into its channel's sum
static void store_pixel(uint8_t *arena_wr, const Fmap &out, int y, int x, int r, bool sums) {
    const int e = per_beat(out.t);
store_q:
    for (int q = 0; q < r * r; q++) {
    store:
        for (int o0 = 0; o0 < out.c; o0 += e) {
#pragma HLS PIPELINE II = 1
            SRHW_STAGE(S_STORE);
            for (int s = 0; s < SRHW_BEAT; s++) {
#pragma HLS UNROLL
                if (s < e && o0 + s < out.c) {
                    const act_t v = out_buf[q * out.c + o0 + s];
                    fm_store(arena_wr, out, hwc(out, y * r + q / r, x * r + q % r, o0 + s), v);
                    if (sums) ca_sum[o0 + s] += v;
                }
            }
        }
    }
}

// Two int8 products of one code x in one DSP48E1: the pre-adder packs wl + wh * 2^16 into the 25-bit port, the
// 25 x 18 multiply gives x*wl in the low 16 bits and x*wh above them. Exact for |x*w| < 2^15, i.e. 8-bit codes
// (uint8 or int8) and int8 weights; 16-bit maps take the unpacked path.
static inline void mul_pair(lb_t x, w8_t wl, w8_t wh, acc_t &pl, acc_t &ph) {
#pragma HLS INLINE
#ifndef SRHW_NATIVE_TYPES
    const ap_int<25> pk = ap_int<25>(wl) + (ap_int<25>(wh) << 16);
    const ap_int<43> p = pk * ap_int<18>(x);
    const ap_int<16> lo = ap_int<16>(p);  // the low 16 bits, two's complement
    pl = lo;
    ph = acc_t((p - lo) >> 16);
#else
    const int64_t p = (int64_t(wl) + int64_t(wh) * 65536) * int64_t(x);
    const int64_t lo = int16_t(uint16_t(p & 0xffff));
    pl = lo;
    ph = (p - lo) >> 16;
#endif
}

// ----------------------------------------------------------------------------------------------
// conv: acc = sum W*x + B (zero padding); y = clamp(rshift_round(acc * M[c], SH[c]), LO, HI)
// ----------------------------------------------------------------------------------------------
static int conv_layer(const int32_t *d, const int32_t *wts, const uint8_t *arena, uint8_t *arena_wr, int H, int W) {
    const Fmap in = fmap(d, D_IN0, D_IN0_C, D_IN0_T, H, W, d[D_F]);
    const Fmap out = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F]);  // out.c: the conv's channels
    const Fmap st = stored_map(d, H, W);  // what the store writes (pixel-shuffled when D_PS)
    const int r = ps_factor(d), rr = r * r;
    const int g = d[D_GROUPS], kh = d[D_KH], kw = d[D_KW];
    const int cig = in.c / g, cog = out.c / g;
    const int taps = kh * kw * cig, taps_p = round_up(taps, SRHW_SIMD);
    const int tiles = ceil_div(cog, SRHW_LANES), rows = g * tiles;
    // two products per DSP need 8-bit codes; a 16-bit map runs the array twice, one lane of each pair at a time
    const int passes = (SRHW_PACK && in.t == T_S16) ? 2 : 1;
    const int ring = lb_ring(kh, kw, in.w);
    if (in.w > SRHW_MAX_W || kh > SRHW_MAX_K || kw > SRHW_MAX_K || ring > SRHW_LB_PIXELS) return ST_TOO_WIDE;
    if (in.c > SRHW_MAX_CIN || out.c > SRHW_MAX_COUT || taps_p > SRHW_MAX_TAPS || rows > SRHW_MAX_ROWS)
        return ST_TOO_MANY_CHANNELS;
    if (rows * taps_p > SRHW_W8_PER_LANE) return ST_TOO_MANY_WEIGHTS;

    // 1. the layer's weights and per-channel requantization into the lane buffers
load_w:
    for (int row = 0; row < rows; row++) {
        const int gi = row / tiles, tt = row % tiles;
        for (int l = 0; l < SRHW_LANES; l++) {
            const int o = tt * SRHW_LANES + l, oc = gi * cog + o;
            const bool on = o < cog;
            bias_buf[l][row] = on ? blob_i32(wts, d[D_B], oc) : 0;
            mult_buf[l][row] = on ? blob_i32(wts, d[D_M], oc) : 0;
            shift_buf[l][row] = on ? blob_i32(wts, d[D_SHV], oc) : 0;
            for (int t = 0; t < taps_p; t++) {
#pragma HLS PIPELINE II = 1
                SRHW_COUNT();
                w8_buf[l][row * taps_p + t] = (on && t < taps) ? blob_w8(wts, d[D_W], oc * taps + t) : w8_t(0);
            }
        }
    }

    // 2. per pixel, a dataflow: load | gather | MAC (LANES x SIMD per cycle) + requant | store
    clear_window(taps, taps_p);
    if (d[D_SUMS]) clear_sums(st.c);
    for (int r = 0; r < kh / 2; r++) load_pixels(arena, in, ring, r, 0, in.w, -1);
rows_y:
    for (int y = 0; y < in.h; y++) {
    cols_x:
        for (int x = 0; x < in.w; x++) {
            load_for_pixel(arena, in, ring, kh, kw, y, x);
        groups:
            for (int gi = 0; gi < g; gi++) {
                gather_window(in, ring, y, x, kh, kw, gi, cig);
            tiles_o:
                for (int tt = 0; tt < tiles; tt++) {
                    const int row = gi * tiles + tt;
                    acc_t acc[SRHW_LANES];
#pragma HLS ARRAY_PARTITION variable = acc complete
                    for (int l = 0; l < SRHW_LANES; l++) acc[l] = bias_buf[l][row];
                    for (int pass = 0; pass < passes; pass++) {
                    mac:
                        for (int t0 = 0; t0 < taps_p; t0 += SRHW_SIMD) {
#pragma HLS PIPELINE II = 1
                            SRHW_STAGE(S_MAC);
#if SRHW_PACK
                            for (int l = 0; l < SRHW_LANES; l += 2) {
#pragma HLS UNROLL
                                acc_t sl = 0, sh = 0;  // each lane's SIMD products meet in a LUT adder tree
                                for (int s = 0; s < SRHW_SIMD; s++) {
#pragma HLS UNROLL
                                    const w8_t wl = w8_buf[l][row * taps_p + t0 + s];
                                    const w8_t wh = l + 1 < SRHW_LANES ? w8_buf[l + 1][row * taps_p + t0 + s] : w8_t(0);
                                    if (passes == 1) {
                                        acc_t pl, ph;
                                        mul_pair(window[t0 + s], wl, wh, pl, ph);
                                        sl += pl;
                                        sh += ph;
                                    } else if (pass == 0) {
                                        sl += acc_t(wl) * acc_t(window[t0 + s]);
                                    } else {
                                        sh += acc_t(wh) * acc_t(window[t0 + s]);
                                    }
                                }
                                acc[l] += sl;
                                if (l + 1 < SRHW_LANES) acc[l + 1] += sh;
                            }
#else
                            for (int l = 0; l < SRHW_LANES; l++) {
#pragma HLS UNROLL
                                for (int s = 0; s < SRHW_SIMD; s++) {
#pragma HLS UNROLL
                                    acc[l] += acc_t(w8_buf[l][row * taps_p + t0 + s]) * acc_t(window[t0 + s]);
                                }
                            }
#endif
                        }
                    }
                requant:
                    for (int l = 0; l < SRHW_LANES; l++) {
#pragma HLS UNROLL
                        const int o = tt * SRHW_LANES + l;
                        if (o < cog) {
                            const wide_t prod = wide_t(acc[l]) * wide_t(mult_buf[l][row]);
                            out_buf[obuf_index(gi * cog + o, rr, st.c)] =
                                clamp(rshift_round(prod, shift_buf[l][row]), d[D_LO], d[D_HI]);
                        }
                    }
                }
            }
            store_pixel(arena_wr, st, y, x, r, d[D_SUMS] != 0);
            SRHW_PIXEL_DONE();
        }
    }
    return ST_OK;
}

// ----------------------------------------------------------------------------------------------
// sp_conv (StrassenNets): accb = ternary W_b * x (k x k, zero padding); h = accb * a_j (the r multiplies);
// acc = ternary W_c * h + B; y = clamp(rshift_round(acc, SH), LO, HI)
// ----------------------------------------------------------------------------------------------
#if SRHW_B_LANES > 0
static int sp_conv_layer(const int32_t *d, const int32_t *wts, const uint8_t *arena, uint8_t *arena_wr, int H, int W) {
    const Fmap in = fmap(d, D_IN0, D_IN0_C, D_IN0_T, H, W, d[D_F]);
    const Fmap out = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F]);  // out.c: the conv's channels
    const Fmap st = stored_map(d, H, W);  // what the store writes (pixel-shuffled when D_PS)
    const int ps = ps_factor(d), rr = ps * ps;
    const int g = d[D_GROUPS], k = d[D_KH], r = d[D_HID];
    const int cig = in.c / g, rg = r / g, cog = out.c / g;
    const int taps = k * k * cig, taps_p = round_up(taps, SRHW_TSIMD), rg_p = round_up(rg, SRHW_C_TSIMD);
    const int tiles_b = ceil_div(rg, SRHW_B_LANES), tiles_c = ceil_div(cog, SRHW_C_LANES);
    const int rows_b = g * tiles_b, rows_c = g * tiles_c;
    const int ring = lb_ring(k, k, in.w);
    if (in.w > SRHW_MAX_W || k > SRHW_MAX_K || ring > SRHW_LB_PIXELS) return ST_TOO_WIDE;
    if (in.c > SRHW_MAX_CIN || out.c > SRHW_MAX_COUT || taps_p > SRHW_MAX_TAPS || rg_p > SRHW_MAX_HID ||
        rows_b > SRHW_B_ROWS || rows_c > SRHW_C_ROWS)
        return ST_TOO_MANY_CHANNELS;
    if (rows_b * taps_p > SRHW_T2B_PER_LANE || rows_c * rg_p > SRHW_T2C_PER_LANE) return ST_TOO_MANY_WEIGHTS;

    // 1. ternary W_b with the scales a_j (lane = hidden channel), ternary W_c with the bias (lane = output)
load_wb:
    for (int row = 0; row < rows_b; row++) {
        const int gi = row / tiles_b, tt = row % tiles_b;
        for (int l = 0; l < SRHW_B_LANES; l++) {
            const int j = tt * SRHW_B_LANES + l, hj = gi * rg + j;
            const bool on = j < rg;
            a_buf[l][row] = on ? blob_i32(wts, d[D_A], hj) : 0;
            for (int t = 0; t < taps_p; t++) {
#pragma HLS PIPELINE II = 1
                SRHW_COUNT();
                wb_buf[l][row * taps_p + t] = (on && t < taps) ? blob_t2(wts, d[D_W], hj * taps + t) : tern_t(0);
            }
        }
    }
load_wc:
    for (int row = 0; row < rows_c; row++) {
        const int gi = row / tiles_c, tt = row % tiles_c;
        for (int l = 0; l < SRHW_C_LANES; l++) {
            const int o = tt * SRHW_C_LANES + l, oc = gi * cog + o;
            const bool on = o < cog;
            cbias_buf[l][row] = on ? blob_i32(wts, d[D_B], oc) : 0;
            for (int j = 0; j < rg_p; j++) {
#pragma HLS PIPELINE II = 1
                SRHW_COUNT();
                wc_buf[l][row * rg_p + j] = (on && j < rg) ? blob_t2(wts, d[D_WC], oc * rg + j) : tern_t(0);
            }
        }
    }

    // 2. per pixel, a dataflow: load | gather | W_b lanes -> r multiplies | W_c lanes -> shift, clamp | store
    clear_window(taps, taps_p);
    if (d[D_SUMS]) clear_sums(st.c);
pad_h:  // hidden[rg, rg_p) stays zero for the layer (the scale step writes j < rg only)
    for (int j = rg; j < rg_p; j++) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        hidden[j] = 0;
    }
    for (int rr = 0; rr < k / 2; rr++) load_pixels(arena, in, ring, rr, 0, in.w, -1);
rows_y:
    for (int y = 0; y < in.h; y++) {
    cols_x:
        for (int x = 0; x < in.w; x++) {
            load_for_pixel(arena, in, ring, k, k, y, x);
        groups:
            for (int gi = 0; gi < g; gi++) {
                gather_window(in, ring, y, x, k, k, gi, cig);
            tiles_b_:
                for (int tt = 0; tt < tiles_b; tt++) {
                    const int row = gi * tiles_b + tt;
                    accb_t accb[SRHW_B_LANES];
#pragma HLS ARRAY_PARTITION variable = accb complete
                    for (int l = 0; l < SRHW_B_LANES; l++) accb[l] = 0;
                wb_add:
                    for (int t0 = 0; t0 < taps_p; t0 += SRHW_TSIMD) {
#pragma HLS PIPELINE II = 1
                        SRHW_STAGE(S_MAC);
                        for (int l = 0; l < SRHW_B_LANES; l++) {
#pragma HLS UNROLL
                            partb_t part = 0;  // a TSIMD-input adder tree per lane
                            for (int s = 0; s < SRHW_TSIMD; s++) {
#pragma HLS UNROLL
                                part += tern_term(wb_buf[l][row * taps_p + t0 + s], partb_t(window[t0 + s]));
                            }
                            accb[l] += part;
                        }
                    }
                scale:  // the layer's only real multiplies: SRHW_B_LANES DSP48s
                    for (int l = 0; l < SRHW_B_LANES; l++) {
#pragma HLS UNROLL
                        const int j = tt * SRHW_B_LANES + l;
                        if (j < rg) hidden[j] = hid_t(wide_t(accb[l]) * wide_t(a_buf[l][row]));
                    }
                }
            tiles_c_:
                for (int tt = 0; tt < tiles_c; tt++) {
                    const int row = gi * tiles_c + tt;
                    acc_t acc[SRHW_C_LANES];
#pragma HLS ARRAY_PARTITION variable = acc complete
                    for (int l = 0; l < SRHW_C_LANES; l++) acc[l] = cbias_buf[l][row];
                wc_add:
                    for (int j0 = 0; j0 < rg_p; j0 += SRHW_C_TSIMD) {
#pragma HLS PIPELINE II = 1
                        SRHW_STAGE(S_WC);
                        for (int l = 0; l < SRHW_C_LANES; l++) {
#pragma HLS UNROLL
                            partc_t part = 0;
                            for (int s = 0; s < SRHW_C_TSIMD; s++) {
#pragma HLS UNROLL
                                part += tern_term(wc_buf[l][row * rg_p + j0 + s], partc_t(hidden[j0 + s]));
                            }
                            acc[l] += part;
                        }
                    }
                    for (int l = 0; l < SRHW_C_LANES; l++) {
#pragma HLS UNROLL
                        const int o = tt * SRHW_C_LANES + l;
                        if (o < cog)
                            out_buf[obuf_index(gi * cog + o, rr, st.c)] =
                                clamp(rshift_round(wide_t(acc[l]), d[D_SH]), d[D_LO], d[D_HI]);
                    }
                }
            }
            store_pixel(arena_wr, st, y, x, ps, d[D_SUMS] != 0);
            SRHW_PIXEL_DONE();
        }
    }
    return ST_OK;
}
#endif

// ----------------------------------------------------------------------------------------------
// Elementwise passes and data movement: one loop over the map, `e` codes per cycle, where e = the codes of
// the widest map involved that fill one SRHW_BEAT-byte beat (each port moves at most one beat per cycle)
// ----------------------------------------------------------------------------------------------
static inline int per_beat2(int t0, int t1) { return per_beat(t0) < per_beat(t1) ? per_beat(t0) : per_beat(t1); }

// add: y = clamp(rshift_round(a*MA + b*MB, SH), LO, HI)  (both operands at a common scale; b on its own read port)
static int add_layer(const int32_t *d, const uint8_t *arena, const uint8_t *arena_b, uint8_t *arena_wr, int H, int W) {
    const Fmap a = fmap(d, D_IN0, D_IN0_C, D_IN0_T, H, W, d[D_F]);
    const Fmap b = fmap(d, D_IN1, D_IN1_C, D_IN1_T, H, W, d[D_F]);
    const Fmap out = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F]);
    const big_t ma = d[D_MA], mb = d[D_MB];
    const uint64_t n = uint64_t(out.h) * uint64_t(out.w) * uint64_t(out.c);
    const int e0 = per_beat2(a.t, b.t) < per_beat(out.t) ? per_beat2(a.t, b.t) : per_beat(out.t);
    const int e = e0 < SRHW_EW ? e0 : SRHW_EW;  // EW codes per cycle: 2 x EW multipliers
    const bool sums = SRHW_CA_SUMS && d[D_SUMS] != 0;  // EW more adders, only in an engine whose program needs them
    if (sums) clear_sums(out.c);
add:
    for (uint64_t i0 = 0; i0 < n; i0 += e) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        for (int s = 0; s < SRHW_EW; s++) {
#pragma HLS UNROLL
            const uint64_t i = i0 + s;
            if (s < e && i < n) {
                const big_t acc = big_t(fm_load(arena, a, i)) * ma + big_t(fm_load(arena_b, b, i)) * mb;
                const act_t y = clamp(rshift_round(wide_t(acc), d[D_SH]), d[D_LO], d[D_HI]);
                fm_store(arena_wr, out, i, y);
                if (sums) ca_sum[i % out.c] += y;
            }
        }
    }
    return ST_OK;
}

// act: y = clamp(x, LO, HI)  (ReLU: LO = 0; ReLU6: HI = round(6/s))
static int act_layer(const int32_t *d, const uint8_t *arena, uint8_t *arena_wr, int H, int W) {
    const Fmap in = fmap(d, D_IN0, D_IN0_C, D_IN0_T, H, W, d[D_F]);
    const Fmap out = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F]);
    const uint64_t n = uint64_t(out.h) * uint64_t(out.w) * uint64_t(out.c);
    const int e = per_beat2(in.t, out.t);
act:
    for (uint64_t i0 = 0; i0 < n; i0 += e) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        for (int s = 0; s < SRHW_BEAT; s++) {
#pragma HLS UNROLL
            if (s < e && i0 + s < n) fm_store(arena_wr, out, i0 + s, clamp(wide_t(fm_load(arena, in, i0 + s)), d[D_LO], d[D_HI]));
        }
    }
    return ST_OK;
}

// ----------------------------------------------------------------------------------------------
// ca (channel attention, two passes over the map in DDR):
//   p = round_div(sum_hw x, H*W); h = clamp(rq(W1 p + B1), HID_LO, HID_HI); z = clamp(rq(W2 h + B2), Z_LO, Z_HI);
//   a = LUT[z - Z_LO]; y = clamp(rshift_round(x * a * MY, SH), LO, HI)       (rq(v) = rshift_round(v*M, SH))
// ----------------------------------------------------------------------------------------------
static int ca_layer(const int32_t *d, const int32_t *wts, const uint8_t *arena, const uint8_t *arena_b,
                    uint8_t *arena_wr, int H, int W) {
    const Fmap in = fmap(d, D_IN0, D_IN0_C, D_IN0_T, H, W, d[D_F]);
    const Fmap skip = fmap(d, D_IN1, D_IN1_C, D_IN1_T, H, W, d[D_F]);  // fused: the add's other input
    const Fmap out = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F]);
    const int c = in.c, hid = d[D_HID];
    if (c > SRHW_MAX_C || hid > SRHW_MAX_CA_HID) return ST_TOO_MANY_CHANNELS;
    const uint64_t pixels = uint64_t(in.h) * uint64_t(in.w), n = pixels * uint64_t(c);
    const int e = per_beat2(in.t, out.t);

    // pass 1: global sum per channel (the declared pool_bits bound a 720p LR map), e codes per cycle -- unless
    // (D_SUMS) the conv / add that wrote the map summed it on its store
    const uint64_t n1 = d[D_SUMS] ? 0 : n;
    if (!d[D_SUMS]) clear_sums(c);
pool:
    for (uint64_t i0 = 0; i0 < n1; i0 += e) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        for (int s = 0; s < SRHW_BEAT; s++) {
#pragma HLS UNROLL
            if (s < e && i0 + s < n1) ca_sum[(i0 + s) % c] += fm_load(arena, in, i0 + s);
        }
    }
mean:
    for (int ch = 0; ch < c; ch++) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        ca_pool[ch] = round_div(wide_t(ca_sum[ch]), wide_t(pixels));
    }

    // the two 1x1 FCs on the pooled vector (a few hundred MACs per frame), the sigmoid table
fc1:
    for (int j = 0; j < hid; j++) {
        big_t acc = blob_i32(wts, d[D_B1], j);
        for (int ch = 0; ch < c; ch++) {
#pragma HLS PIPELINE II = 1
            SRHW_COUNT();
            acc += blob_w8(wts, d[D_W1], j * c + ch) * ca_pool[ch];
        }
        const wide_t prod = wide_t(acc) * wide_t(blob_i32(wts, d[D_M1], j));
        ca_hid[j] = clamp(rshift_round(prod, blob_i32(wts, d[D_SH1], j)), d[D_HID_LO], d[D_HID_HI]);
    }
fc2:
    for (int ch = 0; ch < c; ch++) {
        big_t acc = blob_i32(wts, d[D_B2], ch);
        for (int j = 0; j < hid; j++) {
#pragma HLS PIPELINE II = 1
            SRHW_COUNT();
            acc += blob_w8(wts, d[D_W2], ch * hid + j) * ca_hid[j];
        }
        const wide_t prod = wide_t(acc) * wide_t(blob_i32(wts, d[D_M2], ch));
        const act_t z = clamp(rshift_round(prod, blob_i32(wts, d[D_SH2], ch)), d[D_Z_LO], d[D_Z_HI]);
        ca_att[ch] = blob_i32(wts, d[D_LUT], int(z) - d[D_Z_LO]);
    }

    // pass 2: rescale every channel by its attention code, min(e, EW) codes per cycle (2 x EW multipliers);
    // fused with the residual add that reads the result: the add in the same pass (the skip on the second port)
    const int fuse = SRHW_FUSE_CA_ADD ? d[D_FUSE] : 0;
    const int es = fuse ? per_beat2(in.t, skip.t) : e;
    const int er = (es < e ? es : e) < SRHW_EW ? (es < e ? es : e) : SRHW_EW;
    const int ylo = fuse ? d[D_Y_LO] : d[D_LO], yhi = fuse ? d[D_Y_HI] : d[D_HI];
rescale:
    for (uint64_t i0 = 0; i0 < n; i0 += er) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        for (int s = 0; s < SRHW_EW; s++) {
#pragma HLS UNROLL
            const uint64_t i = i0 + s;
            if (s < er && i < n) {
                const big_t prod = big_t(fm_load(arena, in, i)) * big_t(ca_att[i % c]);
                const act_t y = clamp(rshift_round(wide_t(prod) * d[D_MY], d[D_SH]), ylo, yhi);
#if SRHW_FUSE_CA_ADD
                if (fuse) {
                    const big_t o = big_t(fm_load(arena_b, skip, i));
                    const big_t acc = fuse == 1 ? big_t(y) * d[D_MA] + o * d[D_MB] : o * d[D_MA] + big_t(y) * d[D_MB];
                    fm_store(arena_wr, out, i, clamp(rshift_round(wide_t(acc), d[D_ADD_SH]), d[D_LO], d[D_HI]));
                } else
#endif
                    fm_store(arena_wr, out, i, y);
            }
        }
    }
    return ST_OK;
}

// ----------------------------------------------------------------------------------------------
// Data movement (torch semantics), one pass over the map each, e codes per cycle. The reads are sequential
// beats; the writes of a remap scatter inside a pixel (pixel shuffle: inside r x r pixels), which a write
// port with byte enables and a small reorder buffer combines into beats (assumed, see README).
// ----------------------------------------------------------------------------------------------

// pixel_shuffle(r): out[c][y*r + i][x*r + j] = in[c*r*r + i*r + j][y][x]
static int pixel_shuffle_layer(const int32_t *d, const uint8_t *arena, uint8_t *arena_wr, int H, int W) {
    const int r = d[D_HID];
    const Fmap in = fmap(d, D_IN0, D_IN0_C, D_IN0_T, H, W, d[D_F]);
    const Fmap out = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F] * r);
    const uint64_t n = uint64_t(in.h) * uint64_t(in.w) * uint64_t(in.c);
    const int e = per_beat2(in.t, out.t);
ps:
    for (uint64_t i0 = 0; i0 < n; i0 += e) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        for (int s = 0; s < SRHW_BEAT; s++) {
#pragma HLS UNROLL
            const uint64_t i = i0 + s;
            if (s < e && i < n) {
                const int ch = int(i % in.c);
                const uint64_t px = i / in.c;
                const int y = int(px / in.w), x = int(px % in.w);
                const int co = ch / (r * r), ii = (ch / r) % r, j = ch % r;
                fm_store(arena_wr, out, hwc(out, y * r + ii, x * r + j, co), fm_load(arena, in, i));
            }
        }
    }
    return ST_OK;
}

// channel_shuffle(g): out channel k*g + i = in channel i*(C/g) + k
static int channel_shuffle_layer(const int32_t *d, const uint8_t *arena, uint8_t *arena_wr, int H, int W) {
    const Fmap in = fmap(d, D_IN0, D_IN0_C, D_IN0_T, H, W, d[D_F]);
    const Fmap out = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F]);
    const int g = d[D_GROUPS], cpg = in.c / g;
    const uint64_t n = uint64_t(out.h) * uint64_t(out.w) * uint64_t(out.c);
    const int e = per_beat2(in.t, out.t);
cs:
    for (uint64_t i0 = 0; i0 < n; i0 += e) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        for (int s = 0; s < SRHW_BEAT; s++) {
#pragma HLS UNROLL
            const uint64_t i = i0 + s;
            if (s < e && i < n) {
                const uint64_t px = i / out.c;
                const int oc = int(i % out.c), ic = (oc % g) * cpg + oc / g;
                fm_store(arena_wr, out, i, fm_load(arena, in, px * in.c + ic));
            }
        }
    }
    return ST_OK;
}

// slice: out channel j = in channel CH0 + j (np.array_split's chunk, bounds from the serialiser)
static int slice_layer(const int32_t *d, const uint8_t *arena, uint8_t *arena_wr, int H, int W) {
    const Fmap in = fmap(d, D_IN0, D_IN0_C, D_IN0_T, H, W, d[D_F]);
    const Fmap out = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F]);
    const uint64_t n = uint64_t(out.h) * uint64_t(out.w) * uint64_t(out.c);
    const int e = per_beat2(in.t, out.t);
slice:
    for (uint64_t i0 = 0; i0 < n; i0 += e) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        for (int s = 0; s < SRHW_BEAT; s++) {
#pragma HLS UNROLL
            const uint64_t i = i0 + s;
            if (s < e && i < n) fm_store(arena_wr, out, i, fm_load(arena, in, (i / out.c) * in.c + d[D_CH0] + i % out.c));
        }
    }
    return ST_OK;
}

// concat / interleave: this input's channel j goes to output channel CH0 + j*CH_STEP
// (concat: CH0 = channels before this input, step 1; interleave of n inputs: CH0 = i, step n)
static int place_channels(const int32_t *d, const uint8_t *arena, uint8_t *arena_wr, int H, int W) {
    const Fmap in = fmap(d, D_IN0, D_IN0_C, D_IN0_T, H, W, d[D_F]);
    const Fmap out = fmap(d, D_OUT, D_OUT_C, D_OUT_T, H, W, d[D_F]);
    const uint64_t n = uint64_t(in.h) * uint64_t(in.w) * uint64_t(in.c);
    const int e = per_beat2(in.t, out.t);
place:
    for (uint64_t i0 = 0; i0 < n; i0 += e) {
#pragma HLS PIPELINE II = 1
        SRHW_COUNT();
        for (int s = 0; s < SRHW_BEAT; s++) {
#pragma HLS UNROLL
            const uint64_t i = i0 + s;
            if (s < e && i < n)
                fm_store(arena_wr, out, (i / in.c) * out.c + d[D_CH0] + (i % in.c) * d[D_CH_STEP], fm_load(arena, in, i));
        }
    }
    return ST_OK;
}

static int concat_layer(const int32_t *d, const uint8_t *a, uint8_t *w, int H, int W) { return place_channels(d, a, w, H, W); }
static int interleave_layer(const int32_t *d, const uint8_t *a, uint8_t *w, int H, int W) { return place_channels(d, a, w, H, W); }

// ----------------------------------------------------------------------------------------------
// Top: fetch a descriptor, run its op, next. The PS writes program, weights and the input frame to
// DDR, sets the registers and starts the engine (ap_ctrl_hs over AXI-Lite). Program and weights share one
// read adapter (they are read at different times); the arena is one DDR buffer seen through three m_axi ports: two read (a map; an add's second operand) and one write, each widened to
// SRHW_BEAT bytes (max_widen_bitwidth: the accesses are sequential and maps start on a beat).
// ----------------------------------------------------------------------------------------------
int srhw_engine(const int32_t *prog, int32_t n_layers, const int32_t *wts, const uint8_t *arena,
                const uint8_t *arena_b, uint8_t *arena_wr, int32_t in_h, int32_t in_w) {
#pragma HLS INTERFACE m_axi port = prog offset = slave bundle = gmem_w max_read_burst_length = 64  // shares wts' adapter
#pragma HLS INTERFACE m_axi port = wts offset = slave bundle = gmem_w max_read_burst_length = 256
    SRHW_PRAGMA(HLS INTERFACE m_axi port = arena offset = slave bundle = gmem_rd max_read_burst_length = 256 max_widen_bitwidth = SRHW_BEAT_BITS)
    SRHW_PRAGMA(HLS INTERFACE m_axi port = arena_b offset = slave bundle = gmem_rd1 max_read_burst_length = 256 max_widen_bitwidth = SRHW_BEAT_BITS)
    SRHW_PRAGMA(HLS INTERFACE m_axi port = arena_wr offset = slave bundle = gmem_wr max_write_burst_length = 256 max_widen_bitwidth = SRHW_BEAT_BITS)
#pragma HLS INTERFACE s_axilite port = prog bundle = control
#pragma HLS INTERFACE s_axilite port = wts bundle = control
#pragma HLS INTERFACE s_axilite port = arena bundle = control
#pragma HLS INTERFACE s_axilite port = arena_b bundle = control
#pragma HLS INTERFACE s_axilite port = arena_wr bundle = control
#pragma HLS INTERFACE s_axilite port = n_layers bundle = control
#pragma HLS INTERFACE s_axilite port = in_h bundle = control
#pragma HLS INTERFACE s_axilite port = in_w bundle = control
#pragma HLS INTERFACE s_axilite port = return bundle = control
#pragma HLS ARRAY_PARTITION variable = w8_buf dim = 1 complete
#pragma HLS ARRAY_PARTITION variable = bias_buf dim = 1 complete
#pragma HLS ARRAY_PARTITION variable = mult_buf dim = 1 complete
#pragma HLS ARRAY_PARTITION variable = shift_buf dim = 1 complete
    // one word per lane and cycle: SIMD int8 weights (8*SIMD bits) or TSIMD / C_TSIMD ternary codes
    SRHW_PRAGMA(HLS ARRAY_RESHAPE variable = w8_buf dim = 2 cyclic factor = SRHW_SIMD)
    SRHW_PRAGMA(HLS ARRAY_PARTITION variable = window cyclic factor = SRHW_MAX_PAR)
    SRHW_PRAGMA(HLS ARRAY_PARTITION variable = out_buf cyclic factor = SRHW_BEAT)
    SRHW_PRAGMA(HLS ARRAY_RESHAPE variable = line_buf dim = 2 cyclic factor = SRHW_GATHER)
    SRHW_PRAGMA(HLS ARRAY_PARTITION variable = line_buf dim = 1 cyclic factor = SRHW_GCOLS)
#if SRHW_B_LANES > 0
#pragma HLS ARRAY_PARTITION variable = wb_buf dim = 1 complete
#pragma HLS ARRAY_PARTITION variable = wc_buf dim = 1 complete
#pragma HLS ARRAY_PARTITION variable = a_buf dim = 1 complete
#pragma HLS ARRAY_PARTITION variable = cbias_buf dim = 1 complete
    SRHW_PRAGMA(HLS ARRAY_RESHAPE variable = wb_buf dim = 2 cyclic factor = SRHW_TSIMD)
    SRHW_PRAGMA(HLS ARRAY_RESHAPE variable = wc_buf dim = 2 cyclic factor = SRHW_C_TSIMD)
    SRHW_PRAGMA(HLS ARRAY_PARTITION variable = hidden cyclic factor = SRHW_C_TSIMD)
#pragma HLS BIND_STORAGE variable = a_buf type = ram_1p impl = lutram
#pragma HLS BIND_STORAGE variable = cbias_buf type = ram_1p impl = lutram
#pragma HLS BIND_STORAGE variable = hidden type = ram_2p impl = lutram
#endif
    SRHW_PRAGMA(HLS ARRAY_PARTITION variable = ca_sum cyclic factor = SRHW_BEAT)
#pragma HLS BIND_STORAGE variable = line_buf type = ram_2p impl = bram
#pragma HLS BIND_STORAGE variable = window type = ram_2p impl = lutram
#pragma HLS BIND_STORAGE variable = out_buf type = ram_2p impl = lutram
#pragma HLS BIND_STORAGE variable = bias_buf type = ram_1p impl = lutram
#pragma HLS BIND_STORAGE variable = mult_buf type = ram_1p impl = lutram
#pragma HLS BIND_STORAGE variable = shift_buf type = ram_1p impl = lutram
layers:
    for (int i = 0; i < n_layers; i++) {
        int32_t d[SRHW_DESC_WORDS];
#pragma HLS ARRAY_PARTITION variable = d complete
    fetch:
        for (int k = 0; k < SRHW_DESC_WORDS; k++) {
#pragma HLS PIPELINE II = 1
            SRHW_COUNT();
            d[k] = prog[i * SRHW_DESC_WORDS + k];
        }
#ifdef SRHW_COUNT_ITERS
        const uint64_t before = srhw_iters - SRHW_DESC_WORDS;  // the fetch belongs to this descriptor
#endif
        int st;
        switch (d[D_OP]) {
            case OP_CONV: st = conv_layer(d, wts, arena, arena_wr, in_h, in_w); break;
#if SRHW_B_LANES > 0
            case OP_SP_CONV: st = sp_conv_layer(d, wts, arena, arena_wr, in_h, in_w); break;
#endif
            case OP_ADD: st = add_layer(d, arena, arena_b, arena_wr, in_h, in_w); break;
            case OP_ACT: st = act_layer(d, arena, arena_wr, in_h, in_w); break;
            case OP_CA: st = ca_layer(d, wts, arena, arena_b, arena_wr, in_h, in_w); break;
            case OP_PIXEL_SHUFFLE: st = pixel_shuffle_layer(d, arena, arena_wr, in_h, in_w); break;
            case OP_CHANNEL_SHUFFLE: st = channel_shuffle_layer(d, arena, arena_wr, in_h, in_w); break;
            case OP_SLICE: st = slice_layer(d, arena, arena_wr, in_h, in_w); break;
            case OP_CONCAT: st = concat_layer(d, arena, arena_wr, in_h, in_w); break;
            case OP_INTERLEAVE: st = interleave_layer(d, arena, arena_wr, in_h, in_w); break;
            default: st = ST_BAD_OP;  // (an sp_conv on an engine built without sum-product lanes, too)
        }
#ifdef SRHW_COUNT_ITERS
        if (i < SRHW_COUNT_LAYERS) srhw_layer_iters[i] = srhw_iters - before;
#endif
        if (st != ST_OK) return ((i + 1) << 8) | st;
    }
    return ST_OK;
}
