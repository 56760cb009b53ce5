// The per-band SGM work (costs, path aggregation, decision), included twice by sgm_matcher.cc (hence no
// include guard and no #pragma once): once for
// the baseline ISA (SSE2 on x86-64, scalar elsewhere) and once inside `#pragma GCC target("avx2,popcnt")`
// with SGM_AVX2 set, chosen at run time. Expects BandArgs, Sum, kInf, kOutsideCost, Popcount64
// and NAVWS_ALWAYS_INLINE from the including file.

#if NAVWS_SGM_SIMD
// Minimum of 8 non-negative int16 lanes (values stay below 0x8000, so unsigned and signed agree).
NAVWS_ALWAYS_INLINE uint16_t HMin16(__m128i v) {
#if SGM_AVX2
  return static_cast<uint16_t>(_mm_cvtsi128_si32(_mm_minpos_epu16(v)) & 0xFFFF);  // SSE4.1, implied by AVX2
#else
  v = _mm_min_epi16(v, _mm_srli_si128(v, 8));
  v = _mm_min_epi16(v, _mm_srli_si128(v, 4));
  v = _mm_min_epi16(v, _mm_srli_si128(v, 2));
  return static_cast<uint16_t>(_mm_cvtsi128_si32(v) & 0xFFFF);
#endif
}
#endif

// One step along a path r: L(p, d) = C(p, d) + min(L(p-r, d), L(p-r, d+-1) + P1, min L(p-r) + P2) - min L(p-r).
// lp points at d = 0 of a guarded row (lp[-1] = lp[D] = kInf). Writes L(p, .) to `l`, adds it to (or
// initialises) the aggregated cost `sum`, returns min_d L(p, d).
template <Sum kSum>
NAVWS_ALWAYS_INLINE uint16_t PathStep(const uint8_t* c, const uint16_t* lp, uint16_t min_lp, int D, uint16_t p1,
                                      uint16_t p2, uint16_t* l, uint16_t* sum) {
#if NAVWS_SGM_SIMD
  int k = 0;
  __m128i vmin = _mm_set1_epi16(static_cast<short>(kInf));
  const __m128i vp1 = _mm_set1_epi16(static_cast<short>(p1));
  const __m128i vjump = _mm_set1_epi16(static_cast<short>(min_lp + p2));
  const __m128i vmin_lp = _mm_set1_epi16(static_cast<short>(min_lp));
#if SGM_AVX2
  {
    const __m256i wp1 = _mm256_set1_epi16(static_cast<short>(p1));
    const __m256i wjump = _mm256_set1_epi16(static_cast<short>(min_lp + p2));
    const __m256i wmin_lp = _mm256_set1_epi16(static_cast<short>(min_lp));
    __m256i wmin = _mm256_set1_epi16(static_cast<short>(kInf));
    for (; k + 16 <= D; k += 16) {
      const __m256i cur = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lp + k));
      const __m256i lower = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lp + k - 1));
      const __m256i upper = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lp + k + 1));
      __m256i m = _mm256_min_epi16(cur, _mm256_adds_epu16(lower, wp1));
      m = _mm256_min_epi16(m, _mm256_adds_epu16(upper, wp1));
      m = _mm256_min_epi16(m, wjump);
      const __m256i cv = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + k)));
      const __m256i lv = _mm256_add_epi16(cv, _mm256_sub_epi16(m, wmin_lp));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(l + k), lv);
      if constexpr (kSum == Sum::kInit) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(sum + k), lv);
      } else if constexpr (kSum == Sum::kAdd) {
        __m256i* sp = reinterpret_cast<__m256i*>(sum + k);
        _mm256_storeu_si256(sp, _mm256_add_epi16(_mm256_loadu_si256(sp), lv));
      }
      wmin = _mm256_min_epi16(wmin, lv);
    }
    vmin = _mm_min_epi16(_mm256_castsi256_si128(wmin), _mm256_extracti128_si256(wmin, 1));
  }
#endif
  const __m128i zero = _mm_setzero_si128();
  for (; k < D; k += 8) {
    const __m128i cur = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lp + k));
    const __m128i lower = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lp + k - 1));
    const __m128i upper = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lp + k + 1));
    __m128i m = _mm_min_epi16(cur, _mm_adds_epu16(lower, vp1));
    m = _mm_min_epi16(m, _mm_adds_epu16(upper, vp1));
    m = _mm_min_epi16(m, vjump);
    const __m128i cv = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c + k)), zero);
    const __m128i lv = _mm_add_epi16(cv, _mm_sub_epi16(m, vmin_lp));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(l + k), lv);
    if constexpr (kSum == Sum::kInit) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(sum + k), lv);
    } else if constexpr (kSum == Sum::kAdd) {
      __m128i* sp = reinterpret_cast<__m128i*>(sum + k);
      _mm_storeu_si128(sp, _mm_add_epi16(_mm_loadu_si128(sp), lv));
    }
    vmin = _mm_min_epi16(vmin, lv);
  }
  return HMin16(vmin);
#else
  uint16_t out_min = kInf;
  const int jump = min_lp + p2;
  for (int d = 0; d < D; ++d) {
    int m = lp[d];
    m = std::min(m, lp[d - 1] + p1);
    m = std::min(m, lp[d + 1] + p1);
    m = std::min(m, jump);
    const uint16_t v = static_cast<uint16_t>(c[d] + m - min_lp);
    l[d] = v;
    if constexpr (kSum == Sum::kInit) sum[d] = v;
    if constexpr (kSum == Sum::kAdd) sum[d] = static_cast<uint16_t>(sum[d] + v);
    out_min = std::min(out_min, v);
  }
  return out_min;
#endif
}

// min over d with |d - best| > 1. The excluded lanes are masked in registers: writing them to memory
// first would make the next loads wait on store forwarding.
// The three paths from the row before (straight, from the left, from the right) at one pixel: the cost
// is loaded once and the aggregated sum read and written once instead of three times.
template <Sum kSum>
NAVWS_ALWAYS_INLINE void PathStep3(const uint8_t* c, const uint16_t* const lp[3], const uint16_t min_lp[3], int D,
                                   uint16_t p1, const uint16_t p2[3], uint16_t* const l[3], uint16_t* sum,
                                   uint16_t out_min[3]) {
#if NAVWS_SGM_SIMD
  int k = 0;
  __m128i vmin[3];
  for (int i = 0; i < 3; ++i) vmin[i] = _mm_set1_epi16(static_cast<short>(kInf));
#if SGM_AVX2
  {
    const __m256i wp1 = _mm256_set1_epi16(static_cast<short>(p1));
    __m256i wjump[3], wmin_lp[3], wmin[3];
    for (int i = 0; i < 3; ++i) {
      wjump[i] = _mm256_set1_epi16(static_cast<short>(min_lp[i] + p2[i]));
      wmin_lp[i] = _mm256_set1_epi16(static_cast<short>(min_lp[i]));
      wmin[i] = _mm256_set1_epi16(static_cast<short>(kInf));
    }
    for (; k + 16 <= D; k += 16) {
      const __m256i cv = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + k)));
      __m256i total = _mm256_setzero_si256();
      for (int i = 0; i < 3; ++i) {
        const uint16_t* q = lp[i] + k;
        const __m256i cur = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
        const __m256i lower = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q - 1));
        const __m256i upper = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 1));
        __m256i m = _mm256_min_epi16(cur, _mm256_adds_epu16(lower, wp1));
        m = _mm256_min_epi16(m, _mm256_adds_epu16(upper, wp1));
        m = _mm256_min_epi16(m, wjump[i]);
        const __m256i lv = _mm256_add_epi16(cv, _mm256_sub_epi16(m, wmin_lp[i]));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(l[i] + k), lv);
        wmin[i] = _mm256_min_epi16(wmin[i], lv);
        total = _mm256_add_epi16(total, lv);
      }
      if constexpr (kSum == Sum::kAdd) {
        __m256i* sp = reinterpret_cast<__m256i*>(sum + k);
        _mm256_storeu_si256(sp, _mm256_add_epi16(_mm256_loadu_si256(sp), total));
      }
    }
    for (int i = 0; i < 3; ++i)
      vmin[i] = _mm_min_epi16(_mm256_castsi256_si128(wmin[i]), _mm256_extracti128_si256(wmin[i], 1));
  }
#endif
  if (k < D) {
    const __m128i vp1 = _mm_set1_epi16(static_cast<short>(p1));
    const __m128i zero = _mm_setzero_si128();
    for (; k < D; k += 8) {
      const __m128i cv = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c + k)), zero);
      __m128i total = _mm_setzero_si128();
      for (int i = 0; i < 3; ++i) {
        const uint16_t* q = lp[i] + k;
        const __m128i cur = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
        const __m128i lower = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q - 1));
        const __m128i upper = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 1));
        __m128i m = _mm_min_epi16(cur, _mm_adds_epu16(lower, vp1));
        m = _mm_min_epi16(m, _mm_adds_epu16(upper, vp1));
        m = _mm_min_epi16(m, _mm_set1_epi16(static_cast<short>(min_lp[i] + p2[i])));
        const __m128i lv = _mm_add_epi16(cv, _mm_sub_epi16(m, _mm_set1_epi16(static_cast<short>(min_lp[i]))));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(l[i] + k), lv);
        vmin[i] = _mm_min_epi16(vmin[i], lv);
        total = _mm_add_epi16(total, lv);
      }
      if constexpr (kSum == Sum::kAdd) {
        __m128i* sp = reinterpret_cast<__m128i*>(sum + k);
        _mm_storeu_si128(sp, _mm_add_epi16(_mm_loadu_si128(sp), total));
      }
    }
  }
  for (int i = 0; i < 3; ++i) out_min[i] = HMin16(vmin[i]);
#else
  for (int i = 0; i < 3; ++i) {
    out_min[i] = kSum == Sum::kAdd ? PathStep<Sum::kAdd>(c, lp[i], min_lp[i], D, p1, p2[i], l[i], sum)
                                   : PathStep<Sum::kNone>(c, lp[i], min_lp[i], D, p1, p2[i], l[i], sum);
  }
#endif
}

NAVWS_ALWAYS_INLINE int SecondMin(const uint16_t* v, int D, int best) {
#if NAVWS_SGM_SIMD
  const __m128i lo = _mm_set1_epi16(static_cast<short>(best - 2));
  const __m128i hi = _mm_set1_epi16(static_cast<short>(best + 2));
  const __m128i inf = _mm_set1_epi16(0x7FFF);
  __m128i idx = _mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7);
  const __m128i eight = _mm_set1_epi16(8);
  __m128i m = inf;
  for (int k = 0; k < D; k += 8) {
    const __m128i near = _mm_and_si128(_mm_cmpgt_epi16(idx, lo), _mm_cmplt_epi16(idx, hi));
    const __m128i x = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + k)), _mm_and_si128(near, inf));
    m = _mm_min_epi16(m, x);
    idx = _mm_add_epi16(idx, eight);
  }
  return HMin16(m);
#else
  int m = 0x7FFF;
  for (int d = 0; d < D; ++d) {
    if (d < best - 1 || d > best + 1) m = std::min<int>(m, v[d]);
  }
  return m;
#endif
}

// 9x7 census codes of one row: bit k set where the k-th neighbour (row-major, centre skipped) is darker
// than the centre. centre_row points into the border-replicated image with row pitch pw.
void CensusRow(const uint8_t* centre_row, int pw, int W, uint64_t* o) {
  int x = 0;
#if SGM_AVX2
  {
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    for (; x + 32 <= W; x += 32) {
      const __m256i c =
          _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(centre_row + x)), flip);
      __m256i plane[8];
      for (__m256i& p : plane) p = _mm256_setzero_si256();
      int k = 0;
      for (int dy = -kHalfH; dy <= kHalfH; ++dy) {
        const uint8_t* r = centre_row + x + static_cast<ptrdiff_t>(dy) * pw;
        for (int dx = -kHalfW; dx <= kHalfW; ++dx) {
          if (dx == 0 && dy == 0) continue;
          const __m256i nb = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + dx)), flip);
          const __m256i lt = _mm256_cmpgt_epi8(c, nb);
          plane[k >> 3] =
              _mm256_or_si256(plane[k >> 3], _mm256_and_si256(lt, _mm256_set1_epi8(static_cast<char>(1 << (k & 7)))));
          ++k;
        }
      }
      // The same transpose as below, per 128-bit lane: the low lane holds pixels 0-15, the high one 16-31.
      const __m256i a01l = _mm256_unpacklo_epi8(plane[0], plane[1]), a01h = _mm256_unpackhi_epi8(plane[0], plane[1]);
      const __m256i a23l = _mm256_unpacklo_epi8(plane[2], plane[3]), a23h = _mm256_unpackhi_epi8(plane[2], plane[3]);
      const __m256i a45l = _mm256_unpacklo_epi8(plane[4], plane[5]), a45h = _mm256_unpackhi_epi8(plane[4], plane[5]);
      const __m256i a67l = _mm256_unpacklo_epi8(plane[6], plane[7]), a67h = _mm256_unpackhi_epi8(plane[6], plane[7]);
      const __m256i b[8] = {
          _mm256_unpacklo_epi16(a01l, a23l), _mm256_unpackhi_epi16(a01l, a23l), _mm256_unpacklo_epi16(a01h, a23h),
          _mm256_unpackhi_epi16(a01h, a23h), _mm256_unpacklo_epi16(a45l, a67l), _mm256_unpackhi_epi16(a45l, a67l),
          _mm256_unpacklo_epi16(a45h, a67h), _mm256_unpackhi_epi16(a45h, a67h)};
      __m128i* dst = reinterpret_cast<__m128i*>(o + x);
      for (int q = 0; q < 4; ++q) {
        const __m256i lo = _mm256_unpacklo_epi32(b[q], b[q + 4]);
        const __m256i hi = _mm256_unpackhi_epi32(b[q], b[q + 4]);
        _mm_storeu_si128(dst + 2 * q, _mm256_castsi256_si128(lo));
        _mm_storeu_si128(dst + 2 * q + 1, _mm256_castsi256_si128(hi));
        _mm_storeu_si128(dst + 8 + 2 * q, _mm256_extracti128_si256(lo, 1));
        _mm_storeu_si128(dst + 8 + 2 * q + 1, _mm256_extracti128_si256(hi, 1));
      }
    }
  }
#endif
#if NAVWS_SGM_SIMD
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  for (; x + 16 <= W; x += 16) {
    const __m128i c = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(centre_row + x)), flip);
    __m128i plane[8];
    for (__m128i& p : plane) p = _mm_setzero_si128();
    int k = 0;
    for (int dy = -kHalfH; dy <= kHalfH; ++dy) {
      const uint8_t* r = centre_row + x + static_cast<ptrdiff_t>(dy) * pw;
      for (int dx = -kHalfW; dx <= kHalfW; ++dx) {
        if (dx == 0 && dy == 0) continue;
        const __m128i nb = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + dx)), flip);
        const __m128i lt = _mm_cmpgt_epi8(c, nb);  // neighbour darker than the centre
        plane[k >> 3] = _mm_or_si128(plane[k >> 3], _mm_and_si128(lt, _mm_set1_epi8(static_cast<char>(1 << (k & 7)))));
        ++k;
      }
    }
    // Transpose 8 byte planes x 16 pixels into 16 little-endian 64-bit codes.
    const __m128i a01l = _mm_unpacklo_epi8(plane[0], plane[1]), a01h = _mm_unpackhi_epi8(plane[0], plane[1]);
    const __m128i a23l = _mm_unpacklo_epi8(plane[2], plane[3]), a23h = _mm_unpackhi_epi8(plane[2], plane[3]);
    const __m128i a45l = _mm_unpacklo_epi8(plane[4], plane[5]), a45h = _mm_unpackhi_epi8(plane[4], plane[5]);
    const __m128i a67l = _mm_unpacklo_epi8(plane[6], plane[7]), a67h = _mm_unpackhi_epi8(plane[6], plane[7]);
    const __m128i b[8] = {
        _mm_unpacklo_epi16(a01l, a23l), _mm_unpackhi_epi16(a01l, a23l), _mm_unpacklo_epi16(a01h, a23h),
        _mm_unpackhi_epi16(a01h, a23h), _mm_unpacklo_epi16(a45l, a67l), _mm_unpackhi_epi16(a45l, a67l),
        _mm_unpacklo_epi16(a45h, a67h), _mm_unpackhi_epi16(a45h, a67h)};
    __m128i* dst = reinterpret_cast<__m128i*>(o + x);
    for (int q = 0; q < 4; ++q) {
      _mm_storeu_si128(dst + 2 * q, _mm_unpacklo_epi32(b[q], b[q + 4]));
      _mm_storeu_si128(dst + 2 * q + 1, _mm_unpackhi_epi32(b[q], b[q + 4]));
    }
  }
#endif
  for (; x < W; ++x) {
    const uint8_t centre = centre_row[x];
    uint64_t code = 0;
    int k = 0;
    for (int dy = -kHalfH; dy <= kHalfH; ++dy) {
      const uint8_t* r = centre_row + x + static_cast<ptrdiff_t>(dy) * pw;
      for (int dx = -kHalfW; dx <= kHalfW; ++dx) {
        if (dx == 0 && dy == 0) continue;
        if (r[dx] < centre) code |= uint64_t{1} << k;
        ++k;
      }
    }
    o[x] = code;
  }
}

void CostRow(const uint64_t* cl, const uint64_t* cr, int W, int mind, int D, uint8_t* out) {
  for (int x = 0; x < W; ++x) {
    uint8_t* o = out + static_cast<size_t>(x) * D;
    const int base = x - mind;
    const int inside = std::clamp(base + 1, 0, D);
    const uint64_t c = cl[x];
    for (int d = 0; d < inside; ++d) o[d] = static_cast<uint8_t>(Popcount64(c ^ cr[base - d]));
    for (int d = inside; d < D; ++d) o[d] = kOutsideCost;
  }
}

void MatchBandRows(const BandArgs& a) {
  const int W = a.W, H = a.H, D = a.D, mind = a.mind, y0 = a.y0, y1 = a.y1;
  const size_t row = static_cast<size_t>(W) * D;
  const size_t ls = static_cast<size_t>(D) + 2 * kPathGuard;  // guarded path-cost stride
  const int nv = a.paths == 4 ? 1 : 3;
  // 5 paths: horizontal both ways and the three from above, all in the downward sweep, so each row is
  // decided as soon as it is aggregated and neither the cost volume nor the sums are stored.
  const bool single_pass = a.paths == 5;
  // Path directions in x per vertical path: straight, from the left, from the right.
  static constexpr int kDx[3] = {0, 1, -1};
  const uint16_t p1 = static_cast<uint16_t>(a.p1);
  const int p2 = a.p2;
  const uint16_t* p2_lut = a.p2_lut;
  SgmBandScratch& s = *a.s;
  const uint16_t* start = s.start.data() + kPathGuard;

  auto vertical = [&](int y, int ydir, bool first, const uint8_t* crow, uint16_t* srow) {
    const uint8_t* grow = a.grey + static_cast<size_t>(y) * W;
    const uint8_t* gprev = a.grey + static_cast<size_t>(first ? y : y - ydir) * W;
    if (nv == 3) {
      uint16_t* cur[3];
      const uint16_t* prev[3];
      for (int i = 0; i < 3; ++i) {
        cur[i] = s.cur[i].data() + kPathGuard;
        prev[i] = s.prev[i].data() + kPathGuard;
      }
      const uint16_t* pmin[3] = {s.prev_min[0].data(), s.prev_min[1].data(), s.prev_min[2].data()};
      uint16_t* cmin[3] = {s.cur_min[0].data(), s.cur_min[1].data(), s.cur_min[2].data()};
      // kGeneral: a path's start (first row, image edge) or an edge-adaptive P2; the interior of a row
      // with constant P2 (the product setting) needs neither test nor table.
      auto step = [&](int x, auto general) {
        const uint16_t* lp[3];
        uint16_t mlp[3], p2e[3], mins[3];
        uint16_t* l[3];
        for (int i = 0; i < 3; ++i) {
          const int xp = x - kDx[i];
          if constexpr (decltype(general)::value) {
            const bool restart = first || xp < 0 || xp >= W;
            lp[i] = restart ? start : prev[i] + static_cast<size_t>(xp) * ls;
            mlp[i] = restart ? 0 : pmin[i][xp];
            p2e[i] = restart ? static_cast<uint16_t>(p2) : p2_lut[std::abs(grow[x] - gprev[xp])];
          } else {
            lp[i] = prev[i] + static_cast<size_t>(xp) * ls;
            mlp[i] = pmin[i][xp];
            p2e[i] = static_cast<uint16_t>(p2);
          }
          l[i] = cur[i] + static_cast<size_t>(x) * ls;
        }
        const uint8_t* c = crow + static_cast<size_t>(x) * D;
        if (srow) {
          PathStep3<Sum::kAdd>(c, lp, mlp, D, p1, p2e, l, srow + static_cast<size_t>(x) * D, mins);
        } else {
          PathStep3<Sum::kNone>(c, lp, mlp, D, p1, p2e, l, nullptr, mins);
        }
        for (int i = 0; i < 3; ++i) cmin[i][x] = mins[i];
      };
      if (first || a.p2_adaptive) {
        for (int x = 0; x < W; ++x) step(x, std::true_type{});
      } else {
        step(0, std::true_type{});
        for (int x = 1; x + 1 < W; ++x) step(x, std::false_type{});
        step(W - 1, std::true_type{});
      }
      for (int i = 0; i < 3; ++i) {
        std::swap(s.cur[i], s.prev[i]);
        std::swap(s.cur_min[i], s.prev_min[i]);
      }
      return;
    }
    for (int i = 0; i < nv; ++i) {
      const int dx = kDx[i];
      uint16_t* cur = s.cur[i].data() + kPathGuard;
      const uint16_t* prev = s.prev[i].data() + kPathGuard;
      const uint16_t* pmin = s.prev_min[i].data();
      uint16_t* cmin = s.cur_min[i].data();
      for (int x = 0; x < W; ++x) {
        const int xp = x - dx;
        const bool restart = first || xp < 0 || xp >= W;
        const uint16_t* lp = restart ? start : prev + static_cast<size_t>(xp) * ls;
        const uint16_t mlp = restart ? 0 : pmin[xp];
        const uint16_t p2e = restart ? static_cast<uint16_t>(p2) : p2_lut[std::abs(grow[x] - gprev[xp])];
        const uint8_t* c = crow + static_cast<size_t>(x) * D;
        uint16_t* l = cur + static_cast<size_t>(x) * ls;
        cmin[x] = srow ? PathStep<Sum::kAdd>(c, lp, mlp, D, p1, p2e, l, srow + static_cast<size_t>(x) * D)
                       : PathStep<Sum::kNone>(c, lp, mlp, D, p1, p2e, l, nullptr);
      }
      std::swap(s.cur[i], s.prev[i]);
      std::swap(s.cur_min[i], s.prev_min[i]);
    }
  };

  auto decide = [&](int y, uint16_t* srow) {
  float* disp = a.disparity + static_cast<size_t>(y) * W;
  float* conf = a.confidence + static_cast<size_t>(y) * W;
  uint16_t* right_cost = s.right_cost.data();
  int16_t* right_disp = s.right_disp.data();
  uint16_t* best_row = s.best.data();  // best integer disparity index + 1; 0 = rejected
  std::fill(s.right_cost.begin(), s.right_cost.end(), uint16_t{0x7FFF});
  std::fill(s.right_disp.begin(), s.right_disp.end(), int16_t{-1});
  for (int x = 0; x < W; ++x) {
    disp[x] = 0;
    conf[x] = 0;
    best_row[x] = 0;
    const int count = std::min(D, x - mind + 1);
    if (count < 3) continue;
    const uint16_t* sp = srow + static_cast<size_t>(x) * D;
    int best = 0;
    uint16_t bv = sp[0];
    // The right view's costs for x_r = x - mind - d run backwards in x_r: kept reversed (index
    // W - 1 - x_r) they are contiguous in d and update with the same vectors as the left minimum.
    const int j0 = W - 1 - x + mind;
#if NAVWS_SGM_SIMD
    if (count == D) {
      __m128i vmin = _mm_set1_epi16(0x7FFF);
      int k = 0;
#if SGM_AVX2
      {
        __m256i wmin = _mm256_set1_epi16(0x7FFF);
        __m256i dvec = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        const __m256i sixteen = _mm256_set1_epi16(16);
        for (; k + 16 <= D; k += 16) {
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sp + k));
          wmin = _mm256_min_epi16(wmin, v);
          __m256i* rc = reinterpret_cast<__m256i*>(right_cost + j0 + k);
          __m256i* rd = reinterpret_cast<__m256i*>(right_disp + j0 + k);
          const __m256i old = _mm256_loadu_si256(rc);
          const __m256i lt = _mm256_cmpgt_epi16(old, v);
          _mm256_storeu_si256(rc, _mm256_min_epi16(v, old));
          _mm256_storeu_si256(rd, _mm256_blendv_epi8(_mm256_loadu_si256(rd), dvec, lt));
          dvec = _mm256_add_epi16(dvec, sixteen);
        }
        vmin = _mm_min_epi16(_mm256_castsi256_si128(wmin), _mm256_extracti128_si256(wmin, 1));
      }
#endif
      __m128i dvec = _mm_add_epi16(_mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7), _mm_set1_epi16(static_cast<short>(k)));
      const __m128i eight = _mm_set1_epi16(8);
      for (; k < D; k += 8) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sp + k));
        vmin = _mm_min_epi16(vmin, v);
        __m128i* rc = reinterpret_cast<__m128i*>(right_cost + j0 + k);
        __m128i* rd = reinterpret_cast<__m128i*>(right_disp + j0 + k);
        const __m128i old = _mm_loadu_si128(rc);
        const __m128i lt = _mm_cmplt_epi16(v, old);
        _mm_storeu_si128(rc, _mm_min_epi16(v, old));
        _mm_storeu_si128(rd, _mm_or_si128(_mm_and_si128(lt, dvec), _mm_andnot_si128(lt, _mm_loadu_si128(rd))));
        dvec = _mm_add_epi16(dvec, eight);
      }
      bv = HMin16(vmin);
      const __m128i vb = _mm_set1_epi16(static_cast<short>(bv));
      for (int k = 0; k < D; k += 8) {
        const int mask =
            _mm_movemask_epi8(_mm_cmpeq_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sp + k)), vb));
        if (mask) {
          best = k + __builtin_ctz(static_cast<unsigned>(mask)) / 2;
          break;
        }
      }
    } else
#endif
    {
      for (int d = 0; d < count; ++d) {
        const uint16_t v = sp[d];
        if (v < bv) {
          bv = v;
          best = d;
        }
        if (v < right_cost[j0 + d]) {
          right_cost[j0 + d] = v;
          right_disp[j0 + d] = static_cast<int16_t>(d);
        }
      }
    }
    // A minimum at an end of the range most likely lies outside it.
    if (best == 0 || best == count - 1) continue;
    const int lo = sp[best - 1], hi = sp[best + 1];
    int second = 0x7FFF;
    if (count == D) {
      second = SecondMin(sp, D, best);
    } else {
      for (int d = 0; d < count; ++d) {
        if (d < best - 1 || d > best + 1) second = std::min<int>(second, sp[d]);
      }
    }
    if (second * (100 - a.uniq) < static_cast<int>(bv) * 100) {
      ++*a.rejected_uniqueness;
      continue;
    }
    const int denom = std::max(1, lo + hi - 2 * static_cast<int>(bv));
    const float sub = static_cast<float>(lo - hi) / (2.0f * static_cast<float>(denom));
    const float dv = static_cast<float>(mind + best) + sub;
    if (!(dv > 0)) continue;
    disp[x] = dv;
    conf[x] = second > 0 ? static_cast<float>(second - bv) / static_cast<float>(second) : 0.0f;
    best_row[x] = static_cast<uint16_t>(best + 1);
  }
  if (a.lr >= 0) {
    for (int x = 0; x < W; ++x) {
      if (best_row[x] == 0) continue;
      const int best = best_row[x] - 1;
      const int xr = x - mind - best;
      const int rd = xr < 0 ? -1 : right_disp[W - 1 - xr];
      if (rd < 0 || std::abs(rd - best) > a.lr) {
        disp[x] = 0;
        conf[x] = 0;
        ++*a.rejected_lr;
      }
    }
  }
  };

  // Box-aggregated costs (single sweep only): raw census rows y - r .. y + r (rows clamped at the image
  // edges) are kept in a ring, their column sums updated per row, then summed over x - r .. x + r and
  // scaled back into a byte.
  const int box = a.box;
  const int ring = 2 * box + 1;
  auto raw_row = [&](int logical) -> uint8_t* { return s.box_ring.data() + static_cast<size_t>((logical % ring + ring) % ring) * row; };
  auto add_raw = [&](int logical, int sign) {
    const uint8_t* r = raw_row(logical);
    uint16_t* cs = s.box_cols.data();
    size_t i = 0;
#if NAVWS_SGM_SIMD
    const __m128i zero = _mm_setzero_si128();
    for (; i + 16 <= row; i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + i));
      __m128i* p0 = reinterpret_cast<__m128i*>(cs + i);
      __m128i* p1 = reinterpret_cast<__m128i*>(cs + i + 8);
      const __m128i lo = _mm_unpacklo_epi8(v, zero), hi = _mm_unpackhi_epi8(v, zero);
      if (sign > 0) {
        _mm_storeu_si128(p0, _mm_add_epi16(_mm_loadu_si128(p0), lo));
        _mm_storeu_si128(p1, _mm_add_epi16(_mm_loadu_si128(p1), hi));
      } else {
        _mm_storeu_si128(p0, _mm_sub_epi16(_mm_loadu_si128(p0), lo));
        _mm_storeu_si128(p1, _mm_sub_epi16(_mm_loadu_si128(p1), hi));
      }
    }
#endif
    for (; i < row; ++i) cs[i] = static_cast<uint16_t>(sign > 0 ? cs[i] + r[i] : cs[i] - r[i]);
  };
  auto load_raw = [&](int logical) {
    const int yy = std::clamp(logical, 0, H - 1);
    CostRow(a.cl + static_cast<size_t>(yy) * W, a.cr + static_cast<size_t>(yy) * W, W, mind, D, raw_row(logical));
    add_raw(logical, +1);
  };
  auto box_row = [&](uint8_t* out) {
    const uint16_t* cs = s.box_cols.data();
    uint16_t* acc = s.box_acc.data();
    std::fill(acc, acc + D, uint16_t{0});
    for (int j = -box; j <= box; ++j) {
      const uint16_t* c = cs + static_cast<size_t>(std::clamp(j, 0, W - 1)) * D;
      for (int d = 0; d < D; ++d) acc[d] = static_cast<uint16_t>(acc[d] + c[d]);
    }
    const int shift = a.box_shift;
    for (int x = 0; x < W; ++x) {
      uint8_t* o = out + static_cast<size_t>(x) * D;
      const uint16_t* add = cs + static_cast<size_t>(std::min(x + box + 1, W - 1)) * D;
      const uint16_t* sub = cs + static_cast<size_t>(std::max(x - box, 0)) * D;
#if NAVWS_SGM_SIMD
      const __m128i sh = _mm_cvtsi32_si128(shift);
      for (int d = 0; d < D; d += 8) {
        __m128i* ap = reinterpret_cast<__m128i*>(acc + d);
        const __m128i v = _mm_loadu_si128(ap);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(o + d), _mm_packus_epi16(_mm_srl_epi16(v, sh), _mm_setzero_si128()));
        const __m128i na = _mm_sub_epi16(_mm_add_epi16(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(add + d))),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(sub + d)));
        _mm_storeu_si128(ap, na);
      }
#else
      for (int d = 0; d < D; ++d) {
        o[d] = static_cast<uint8_t>(acc[d] >> shift);
        acc[d] = static_cast<uint16_t>(acc[d] + add[d] - sub[d]);
      }
#endif
    }
  };

  // Down: horizontal paths, then the paths coming from above.
  const int ys = std::max(0, y0 - a.overlap);
  if (box > 0) {
    std::fill(s.box_cols.begin(), s.box_cols.end(), uint16_t{0});
    for (int yy = ys - box; yy < ys + box; ++yy) load_raw(yy);
  }
  for (int y = ys; y < y1; ++y) {
    const bool warm = y < y0;
    uint8_t* crow = warm || single_pass ? s.cost_row.data() : a.cost + static_cast<size_t>(y) * row;
    if (box > 0) {
      load_raw(y + box);
      box_row(crow);
      add_raw(y - box, -1);
    } else {
      CostRow(a.cl + static_cast<size_t>(y) * W, a.cr + static_cast<size_t>(y) * W, W, mind, D, crow);
    }
    uint16_t* srow = nullptr;
    if (!warm) {
      srow = single_pass ? s.sum_row.data() : a.sum + static_cast<size_t>(y) * row;
      const uint8_t* grow = a.grey + static_cast<size_t>(y) * W;
      // Left-to-right and right-to-left in one loop: two independent dependency chains (each pixel
      // waits for its neighbour's minimum) keep the core busy while either one waits.
      std::memset(srow, 0, row * sizeof(uint16_t));
      uint16_t* fwd[2] = {s.lh.data() + kPathGuard, s.lh2.data() + kPathGuard};
      uint16_t* bwd[2] = {s.lh3.data() + kPathGuard, s.lh4.data() + kPathGuard};
      uint16_t mf = 0, mb = 0;
      const uint16_t* lf = start;
      const uint16_t* lb = start;
      for (int i = 0; i < W; ++i) {
        const int xf = i, xb = W - 1 - i;
        const uint16_t pf = i == 0 ? static_cast<uint16_t>(p2) : p2_lut[std::abs(grow[xf] - grow[xf - 1])];
        const uint16_t pb = i == 0 ? static_cast<uint16_t>(p2) : p2_lut[std::abs(grow[xb] - grow[xb + 1])];
        uint16_t* of = fwd[i & 1];
        uint16_t* ob = bwd[i & 1];
        mf = PathStep<Sum::kAdd>(crow + static_cast<size_t>(xf) * D, lf, mf, D, p1, pf, of,
                                 srow + static_cast<size_t>(xf) * D);
        mb = PathStep<Sum::kAdd>(crow + static_cast<size_t>(xb) * D, lb, mb, D, p1, pb, ob,
                                 srow + static_cast<size_t>(xb) * D);
        lf = of;
        lb = ob;
      }
    }
    vertical(y, 1, y == ys, crow, srow);
    if (single_pass && !warm) decide(y, srow);
  }
  if (single_pass) return;

  // Up: the paths coming from below complete the sum of a row, which is then decided at once.
  const int ye = std::min(H - 1, y1 - 1 + a.overlap);
  for (int y = ye; y >= y0; --y) {
    const bool warm = y >= y1;
    uint8_t* crow = warm ? s.cost_row.data() : a.cost + static_cast<size_t>(y) * row;
    if (warm) CostRow(a.cl + static_cast<size_t>(y) * W, a.cr + static_cast<size_t>(y) * W, W, mind, D, crow);
    uint16_t* srow = warm ? nullptr : a.sum + static_cast<size_t>(y) * row;
    vertical(y, -1, y == ye, crow, srow);
    if (warm) continue;

    decide(y, srow);
  }
}
