/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: Microsoft's source annotation language (SAL), defined
 * away. The annotations tell Microsoft's analyser what a parameter may
 * be; to a compiler they mean nothing. Those taking arguments take any.
 */
#ifndef LWFP_WINSOCK_SAL_H
#define LWFP_WINSOCK_SAL_H

/* Parameters */
#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _Inout_
#define _Inout_opt_
#define _Inout_z_
#define _Out_
#define _Out_opt_
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Reserved_
#define _In_reads_(...)
#define _In_reads_opt_(...)
#define _In_reads_bytes_(...)
#define _In_reads_bytes_opt_(...)
#define _In_reads_z_(...)
#define _Inout_updates_(...)
#define _Inout_updates_opt_(...)
#define _Inout_updates_bytes_(...)
#define _Inout_updates_bytes_opt_(...)
#define _Inout_updates_bytes_to_(...)
#define _Out_writes_(...)
#define _Out_writes_opt_(...)
#define _Out_writes_z_(...)
#define _Out_writes_to_(...)
#define _Out_writes_to_opt_(...)
#define _Out_writes_bytes_(...)
#define _Out_writes_bytes_opt_(...)
#define _Out_writes_bytes_to_(...)
#define _Out_writes_bytes_to_opt_(...)
#define _Out_writes_bytes_all_(...)
#define _Out_writes_bytes_all_opt_(...)
#define _Field_size_(...)
#define _Field_size_opt_(...)
#define _Field_size_bytes_(...)
#define _Field_size_bytes_opt_(...)
#define _Field_size_part_(...)
#define _Field_size_bytes_part_(...)
#define _Field_range_(...)
#define _Field_z_

/* Functions and results */
#define _Check_return_
#define _Must_inspect_result_
#define _Success_(...)
#define _Return_type_success_(...)
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Ret_z_
#define _Result_nullonfailure_
#define _Result_zeroonfailure_
#define _Use_decl_annotations_
#define _Function_class_(...)
#define _Printf_format_string_
#define _Null_terminated_
#define _NullNull_terminated_
#define _Analysis_assume_(...)
#define _Analysis_noreturn_
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Post_invalid_
#define _Post_writable_byte_size_(...)
#define _Pre_
#define _Post_
#define _Pre_notnull_
#define _Pre_maybenull_
#define _Post_z_
#define _When_(...)
#define _At_(...)
#define _Acquires_lock_(...)
#define _Releases_lock_(...)
#define _Requires_lock_held_(...)
#define _Guarded_by_(...)
#define _Interlocked_operand_
#define _IRQL_requires_max_(...)
#define _IRQL_requires_(...)
#define _Strict_type_match_
#define _Struct_size_bytes_(...)

/* The older spelling (pre-2008 SAL), in C only: the C++ library uses
 * __in, __out... as names of its own. */
#ifndef __cplusplus
#define __in
#define __in_opt
#define __out
#define __out_opt
#define __inout
#define __inout_opt
#define __in_bcount(x)
#define __in_bcount_opt(x)
#define __in_ecount(x)
#define __out_bcount(x)
#define __out_bcount_opt(x)
#define __out_ecount(x)
#define __out_bcount_part(x, y)
#define __inout_bcount(x)
#define __deref_out
#define __deref_out_opt
#define __reserved
#define __checkReturn
#define __success(x)
#define __drv_allocatesMem(x)
#define __drv_freesMem(x)
#define __drv_aliasesMem
#endif

#endif /* LWFP_WINSOCK_SAL_H */
