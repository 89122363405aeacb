/*
 * builtin_data.S - the shipped forms and registry (the JSON files in forms/ and the CSV files
 * in forms/registry/) compiled into the binary, so `sipas init` needs no files beside it.
 * Each blob is followed by a NUL byte; builtin.c gives them names.
 */
.macro EMBED sym, file
	.section .rodata
	.balign 16
	.global \sym
\sym:
	.incbin "\file"
	.byte 0
.endm

EMBED builtin_form_sipas_2017, "forms/sipas-2017.json"
EMBED builtin_form_kiosk_2018, "forms/kiosk-2018.json"
EMBED builtin_registry_agencies, "forms/registry/agencies.csv"
EMBED builtin_registry_sectors, "forms/registry/sectors.csv"
EMBED builtin_registry_targets, "forms/registry/targets.csv"

.section .note.GNU-stack, "", @progbits
