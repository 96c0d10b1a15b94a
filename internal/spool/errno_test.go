package spool

import "syscall"

var (
	errENOSPC error = syscall.ENOSPC
	errEDQUOT error = syscall.EDQUOT
	errEIO    error = syscall.EIO
)
