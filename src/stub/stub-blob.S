/* The ctr-stub program (src/stub/ctr-stub.c), built first, as bytes inside ctr. */
	.section .rodata
	.balign 16
	.global ctr_stub_blob
	.global ctr_stub_blob_end
ctr_stub_blob:
	.incbin "src/stub/ctr-stub"
ctr_stub_blob_end:
#if defined(__aarch64__)
	.section .note.GNU-stack,"",%progbits
#else
	.section .note.GNU-stack,"",@progbits
#endif
