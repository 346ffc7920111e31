#!/usr/bin/env python3
# Regenerates the config-space dump fixtures of this directory (run: python3 make-fixtures.py).
# The values come from the chip sheets (identity and config-space sections); see README.md.
import struct, os
OUT=os.path.dirname(os.path.abspath(__file__))

class Cfg:
    def __init__(s, size): s.b = bytearray(size)
    def w8(s,o,v): s.b[o]=v&0xff
    def w16(s,o,v): s.b[o:o+2]=struct.pack('<H',v&0xffff)
    def w32(s,o,v): s.b[o:o+4]=struct.pack('<I',v&0xffffffff)
    def cap(s,o,id,nxt): s.w8(o,id); s.w8(o+1,nxt)
    def ecap(s,o,id,ver,nxt): s.w32(o, id | ver<<16 | nxt<<20)

def header(c, ven, dev, cmd, sta, rev, cls, sven, sdev, capptr, line, pin):
    c.w16(0,ven); c.w16(2,dev); c.w16(4,cmd); c.w16(6,sta); c.w8(8,rev)
    c.w8(9,cls&0xff); c.w8(0xa,(cls>>8)&0xff); c.w8(0xb,cls>>16)
    c.w8(0xc,0x10); c.w8(0xe,0)
    c.w16(0x2c,sven); c.w16(0x2e,sdev); c.w8(0x34,capptr); c.w8(0x3c,line); c.w8(0x3d,pin)

def bar32(c,i,addr,pref=False): c.w32(0x10+4*i, addr | (8 if pref else 0))
def bar64(c,i,addr,pref=False):
    c.w32(0x10+4*i, (addr & 0xffffffff) | 4 | (8 if pref else 0)); c.w32(0x14+4*i, addr>>32)
def bario(c,i,addr): c.w32(0x10+4*i, addr | 1)

def pcie(c, o, nxt, speed, width, mps=2):
    c.cap(o,0x10,nxt); c.w16(o+2,0x0002)            # version 2, endpoint
    c.w32(o+4, mps | 0x8000 | 0x20)                 # DevCap: MPS, role-based error, ext tag
    c.w16(o+8, 0x2810)                              # DevCtl: MRRS 512, RO, MPS 128
    c.w32(o+0xc, (width<<4) | speed)                # LnkCap
    c.w16(o+0x12, 0x1000 | (width<<4) | speed)      # LnkSta: slot clock, width, speed
    c.w32(o+0x2c, {1:0x2,2:0x6,3:0xe}[speed])       # LnkCap2 supported speeds
    c.w16(o+0x30, speed)                            # LnkCtl2 target speed

def msi(c,o,nxt,ctl): c.cap(o,0x05,nxt); c.w16(o+2,ctl)
def pm(c,o,nxt): c.cap(o,0x01,nxt); c.w16(o+2,0x0003); c.w16(o+4,0x0008)
def msix(c,o,nxt,n,bir): c.cap(o,0x11,nxt); c.w16(o+2,n-1); c.w32(o+4,0x8000|bir); c.w32(o+8,0x8fe0|bir)

def dump(addr, title, c):
    lines=[f"{addr} {title}"]
    for o in range(0,len(c.b),16):
        lines.append((f"{o:02x}" if o<0x100 else f"{o:03x}")+": "+" ".join(f"{x:02x}" for x in c.b[o:o+16]))
    return "\n".join(lines)+"\n\n"

boards = {}

# PLX PCI 9656 (conventional PCI, 256 bytes): BAR0 regs 512 B, BAR1 I/O 256 B, BAR2/3 local spaces.
c=Cfg(256)
header(c,0x10b5,0x9656,0x0007,0x02b0,0xaa,0x068000,0x10b5,0x9656,0x40,0x0b,1)
bar32(c,0,0xfebffc00); bario(c,1,0xe000); bar32(c,2,0xfea00000); bar32(c,3,0xfebe0000)
pm(c,0x40,0x48); c.cap(0x48,0x06,0x4c); c.cap(0x4c,0x03,0x00)
boards['plx9656']=("03:04.0","Bridge [0680]: PLX Technology, Inc. PCI9656 PCI <-> IOBus Bridge [10b5:9656] (rev aa)",c,
    [(0,"512"),(1,"256"),(2,"1M"),(3,"64K")])

# XDMA 10ee:903f, 64-bit BARs: Lite BAR0 1 MiB, DMA BAR2 64 KiB, bypass BAR4 256 MiB prefetchable; 4096 bytes.
c=Cfg(4096)
header(c,0x10ee,0x903f,0x0406,0x0010,0x00,0x070001,0x10ee,0x0007,0x40,0x0a,1)
bar64(c,0,0xfe000000); bar64(c,2,0xfe100000); bar64(c,4,0x3800000000,pref=True)
pm(c,0x40,0x48); msi(c,0x48,0x60,0x0086); pcie(c,0x60,0x9c,3,16); msix(c,0x9c,0x00,32,2)
c.ecap(0x100,0x0001,2,0x140); c.w32(0x10c,0x00462030)
c.ecap(0x140,0x0003,1,0x180); c.w32(0x144,0x00000001); c.w32(0x148,0x0a350000)
c.ecap(0x180,0x000b,1,0x000); c.w32(0x184,0x01800001)
boards['xdma-903f']=("0000:01:00.0","Serial controller [0700]: Xilinx Corporation Device [10ee:903f]",c,
    [(0,"1M"),(2,"64K"),(4,"256M")])

# XDMA 10ee:7024, 32-bit BARs: Lite BAR0 1 MiB, DMA BAR1 64 KiB; 256 bytes (lspci -xxx).
c=Cfg(256)
header(c,0x10ee,0x7024,0x0006,0x0010,0x00,0x070001,0x10ee,0x0007,0x40,0x0b,1)
bar32(c,0,0xfd000000); bar32(c,1,0xfd100000)
pm(c,0x40,0x48); msi(c,0x48,0x60,0x0086); pcie(c,0x60,0x9c,2,4); msix(c,0x9c,0x00,8,1)
boards['xdma-7024']=("02:00.0","Serial controller [0700]: Xilinx Corporation Device [10ee:7024]",c,
    [(0,"1M"),(1,"64K")])

# Xilinx BMD (XAPP1052) 10ee:0007, BAR0 32-bit 1 KiB; MSI 1 vector; Gen1 x8; 4096 bytes; domain 0001.
c=Cfg(4096)
header(c,0x10ee,0x0007,0x0006,0x0010,0x00,0x058000,0x10ee,0x0007,0x40,0x0b,1)
bar32(c,0,0xfbfffc00)
pm(c,0x40,0x48); msi(c,0x48,0x60,0x0080); pcie(c,0x60,0x00,1,8)
c.ecap(0x100,0x0003,1,0x000); c.w32(0x104,0x12345678); c.w32(0x108,0x0a350000)
boards['bmd']=("0001:05:00.0","Memory controller [0580]: Xilinx Corporation Default PCIe endpoint ID [10ee:0007]",c,
    [(0,"1K")])

def bars(addr, sizes):
    full = addr if addr.count(':')==2 else "0000:"+addr
    return "".join(f"{full}  {i}  {s}\n" for i,s in sizes)

for name,(addr,title,c,sizes) in boards.items():
    open(f"{OUT}/{name}.dump","w").write(dump(addr,title,c))
    open(f"{OUT}/{name}.bars","w").write(f"# BAR sizes for {name}.dump (a dump cannot hold them)\n# address       BAR  size\n"+bars(addr,sizes))

order=['bmd','xdma-7024','plx9656','xdma-903f']   # deliberately not in address order
open(f"{OUT}/all-boards.dump","w").write("".join(dump(boards[n][0],boards[n][1],boards[n][2]) for n in order))
open(f"{OUT}/all-boards.bars","w").write("# BAR sizes for all-boards.dump\n"+"".join(bars(boards[n][0],boards[n][3]) for n in order))

# Malformed: line 5 ends in a single hex digit.
c=boards['plx9656'][2]
lines=dump("03:04.0","Bridge: PLX Technology, Inc. PCI9656 (corrupted copy)",c).split("\n")
lines[4]=lines[4][:-1]
open(f"{OUT}/malformed.dump","w").write("\n".join(lines))
