# Proof that filtergen equals libpcap. Included by
# tests/filtergen/CMakeLists.txt. Needs root: BPF_PROG_TEST_RUN, and a
# private network + mount namespace (no DNS; TESTrun's name DB in a private
# /etc overlay, the machine's /etc untouched).
set(FGT_CORPUS_DIR "${PROJECT_SOURCE_DIR}/../shared/corpus")
set(FGT_DIR ${CMAKE_CURRENT_LIST_DIR})

# Corpus differential: every EN10MB expression x every full-length Ethernet
# record of the corpus, XDP and TC, verdict and capture length vs libpcap.
add_executable(test_fg_corpus
	${FGT_DIR}/test_fg_corpus.c
	${FGT_DIR}/test_fg_corpus_pkts.c
	${FGT_DIR}/test_fg_corpus_exprs.c
	${FGT_DIR}/test_fg_corpus_diff.c
	${FGT_DIR}/test_fg_corpus_reject.c
	${FGT_DIR}/test_fg_corpus_kernel.c
	${FGT_DIR}/test_fg_corpus_namedb.c)
target_link_libraries(test_fg_corpus PRIVATE filtergen PkgConfig::LIBPCAP
	PkgConfig::LIBBPF)

# TESTrun accept rows (about 450 with the name DB) in two halves, so each
# ctest test stays at a few minutes on 2 busy cores.
add_test(NAME fg_corpus_testrun_accept_exprs_equal_libpcap_on_all_packets_part1
	COMMAND test_fg_corpus accept ${FGT_CORPUS_DIR} 2 1/2)
add_test(NAME fg_corpus_testrun_accept_exprs_equal_libpcap_on_all_packets_part2
	COMMAND test_fg_corpus accept ${FGT_CORPUS_DIR} 2 2/2)
add_test(NAME fg_corpus_extra_filters_equal_libpcap_on_all_packets_part1
	COMMAND test_fg_corpus extra ${FGT_CORPUS_DIR} 2 1/2)
add_test(NAME fg_corpus_extra_filters_equal_libpcap_on_all_packets_part2
	COMMAND test_fg_corpus extra ${FGT_CORPUS_DIR} 2 2/2)
# The same expressions as libpcap's unoptimised programs, via fg_from_cbpf.
add_test(NAME fg_corpus_extra_filters_unoptimised_cbpf_equals_libpcap_part1
	COMMAND test_fg_corpus extra-unopt ${FGT_CORPUS_DIR} 2 1/2)
add_test(NAME fg_corpus_extra_filters_unoptimised_cbpf_equals_libpcap_part2
	COMMAND test_fg_corpus extra-unopt ${FGT_CORPUS_DIR} 2 2/2)
add_test(NAME fg_corpus_apply_tests_per_packet_results_equal_libpcap
	COMMAND test_fg_corpus apply ${FGT_CORPUS_DIR} 2)
add_test(NAME fg_corpus_rejected_exprs_refused_with_libpcap_message
	COMMAND test_fg_corpus reject ${FGT_CORPUS_DIR})
set_tests_properties(
	fg_corpus_testrun_accept_exprs_equal_libpcap_on_all_packets_part1
	fg_corpus_testrun_accept_exprs_equal_libpcap_on_all_packets_part2
	fg_corpus_extra_filters_equal_libpcap_on_all_packets_part1
	fg_corpus_extra_filters_equal_libpcap_on_all_packets_part2
	fg_corpus_extra_filters_unoptimised_cbpf_equals_libpcap_part1
	fg_corpus_extra_filters_unoptimised_cbpf_equals_libpcap_part2
	fg_corpus_apply_tests_per_packet_results_equal_libpcap
	fg_corpus_rejected_exprs_refused_with_libpcap_message
	PROPERTIES TIMEOUT 900 LABELS "filtergen;corpus")

# Every cBPF opcode and addressing mode, hand-built, vs bpf_filter().
add_executable(test_fg_opcodes ${FGT_DIR}/test_fg_opcodes.c)
target_link_libraries(test_fg_opcodes PRIVATE filtergen PkgConfig::LIBPCAP
	PkgConfig::CMOCKA)
add_test(NAME fg_opcodes_every_cbpf_opcode_equals_bpf_filter
	COMMAND test_fg_opcodes)

# Random valid cBPF programs on random packets vs bpf_filter (fixed seed).
add_executable(test_fg_opcodes_fuzz ${FGT_DIR}/test_fg_opcodes_fuzz.c)
target_link_libraries(test_fg_opcodes_fuzz PRIVATE filtergen PkgConfig::LIBPCAP)
add_test(NAME fg_opcodes_random_programs_equal_bpf_filter
	COMMAND test_fg_opcodes_fuzz 120 1 2)
set_tests_properties(fg_opcodes_every_cbpf_opcode_equals_bpf_filter
	fg_opcodes_random_programs_equal_bpf_filter
	PROPERTIES TIMEOUT 600 LABELS "filtergen")

# The generated fg_filter.h in a host program written only against the
# documented contract (fg_build): frames pass unchanged whatever the verdict.
add_executable(test_fg_opcodes_host ${FGT_DIR}/test_fg_opcodes_host.c)
target_link_libraries(test_fg_opcodes_host PRIVATE filtergen PkgConfig::LIBBPF)
add_test(NAME fg_generated_filter_in_own_host_passes_frames_unchanged
	COMMAND test_fg_opcodes_host)
set_tests_properties(fg_generated_filter_in_own_host_passes_frames_unchanged
	PROPERTIES TIMEOUT 300 LABELS "filtergen")
