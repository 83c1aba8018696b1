// Peer: the seed's own stack — cilium/ebpf ringbuf.NewReader — printing every record to a file.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: peer-go <workload.bpf.o> <out file> <seconds>")
		os.Exit(2)
	}
	seconds, _ := strconv.ParseFloat(os.Args[3], 64)
	spec, err := ebpf.LoadCollectionSpec(os.Args[1])
	if err != nil {
		panic(err)
	}
	var objs struct {
		Prog *ebpf.Program `ebpf:"on_getpid"`
		Rb   *ebpf.Map     `ebpf:"rb"`
		Bss  *ebpf.Map     `ebpf:".bss"`
	}
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		panic(err)
	}
	tp, err := link.Tracepoint("syscalls", "sys_enter_getpid", objs.Prog, nil)
	if err != nil {
		panic(err)
	}
	defer tp.Close()
	rd, err := ringbuf.NewReader(objs.Rb)
	if err != nil {
		panic(err)
	}
	f, err := os.Create(os.Args[2])
	if err != nil {
		panic(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Println("ready")
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	go func() { time.Sleep(time.Until(deadline)); rd.Close() }()
	count := 0
	for {
		rec, err := rd.Read()
		if err != nil {
			break
		}
		s := rec.RawSample
		if len(s) < 48 {
			continue
		}
		fmt.Fprintf(w, "%d %d %d %d\n", binary.LittleEndian.Uint64(s[0:8]), binary.LittleEndian.Uint32(s[8:12]),
			binary.LittleEndian.Uint32(s[12:16]), binary.LittleEndian.Uint64(s[16:24]))
		count++
	}
	w.Flush()
	f.Close()
	fmt.Printf("records %d dropped %d\n", count, readDropped(spec, objs.Bss))
}

// readDropped reads the program's global `dropped` counter from .bss, located through BTF.
func readDropped(spec *ebpf.CollectionSpec, bss *ebpf.Map) uint64 {
	ds, ok := spec.Maps[".bss"].Value.(*btf.Datasec)
	if !ok {
		return 0
	}
	value := make([]byte, spec.Maps[".bss"].ValueSize)
	if err := bss.Lookup(uint32(0), value); err != nil {
		return 0
	}
	for _, v := range ds.Vars {
		if variable, ok := v.Type.(*btf.Var); ok && variable.Name == "dropped" && int(v.Offset)+8 <= len(value) {
			return binary.LittleEndian.Uint64(value[v.Offset:])
		}
	}
	return 0
}
