'use strict'
// What a Linux shared object asks of the system, read from its ELF file with no binutils: the
// libraries it names (DT_NEEDED) and the symbol versions it needs from each (.gnu.version_r, the
// table `objdump -p` prints as "Version References"). The highest GLIBC_x.y there is the oldest
// glibc that can load it.
//   node scripts/elf-needs.js <file.node>   → prints { needed, versions, glibc } as JSON

const fs = require('node:fs')

const SHT_DYNAMIC = 6
const SHT_GNU_VERNEED = 0x6ffffffe
const DT_NEEDED = 1

/** { needed: ['libc.so.6', ...], versions: { 'libc.so.6': ['GLIBC_2.2.5', ...] }, glibc: '2.17' | null } */
function elfNeeds(file) {
  const b = fs.readFileSync(file)
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file}: not an ELF file`)
  const is64 = b[4] === 2
  const le = b[5] === 1
  const u16 = (o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o))
  const u32 = (o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o))
  const addr = (o) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(o))
  const shoff = addr(is64 ? 0x28 : 0x20)
  const shentsize = u16(is64 ? 0x3a : 0x2e)
  const shnum = u16(is64 ? 0x3c : 0x30)
  const sections = []
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize
    sections.push({
      type: u32(o + 4),
      offset: addr(is64 ? o + 0x18 : o + 0x10),
      size: addr(is64 ? o + 0x20 : o + 0x14),
      link: u32(is64 ? o + 0x28 : o + 0x18),
      info: u32(is64 ? o + 0x2c : o + 0x1c),
    })
  }
  const cString = (table, at) => {
    const start = sections[table].offset + at
    return b.toString('latin1', start, b.indexOf(0, start))
  }

  const needed = []
  for (const s of sections.filter((x) => x.type === SHT_DYNAMIC)) {
    const entry = is64 ? 16 : 8
    for (let o = s.offset; o + entry <= s.offset + s.size; o += entry) {
      const tag = addr(o)
      if (tag === 0) break
      if (tag === DT_NEEDED) needed.push(cString(s.link, addr(o + entry / 2)))
    }
  }

  // Verneed entries: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32; each with
  // vn_cnt Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
  const versions = {}
  for (const s of sections.filter((x) => x.type === SHT_GNU_VERNEED)) {
    let o = s.offset
    for (let i = 0; i < s.info; i++) {
      const library = cString(s.link, u32(o + 4))
      let aux = o + u32(o + 8)
      const names = (versions[library] ??= [])
      for (let j = 0; j < u16(o + 2); j++) {
        names.push(cString(s.link, u32(aux + 8)))
        aux += u32(aux + 12)
      }
      const next = u32(o + 12)
      if (next === 0) break
      o += next
    }
  }
  for (const names of Object.values(versions)) names.sort(compareVersionNames)

  const glibcNames = Object.values(versions)
    .flat()
    .filter((n) => /^GLIBC_\d+(\.\d+)*$/.test(n))
    .sort(compareVersionNames)
  const glibc = glibcNames.length ? glibcNames[glibcNames.length - 1].slice('GLIBC_'.length) : null
  return { needed, versions, glibc }
}

// GLIBC_2.2.5 < GLIBC_2.17 < GLIBC_2.34: by number, part by part.
function compareVersionNames(a, b) {
  const na = a.replace(/^\D+/, '').split('.').map(Number)
  const nb = b.replace(/^\D+/, '').split('.').map(Number)
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] || 0) - (nb[i] || 0)
    if (d !== 0) return d
  }
  return a < b ? -1 : a > b ? 1 : 0
}

/** True when glibc version `a` (like '2.17') is newer than `b`. */
function glibcNewer(a, b) {
  return compareVersionNames(`GLIBC_${a}`, `GLIBC_${b}`) > 0
}

module.exports = { elfNeeds, glibcNewer, compareVersionNames }

if (require.main === module) console.log(JSON.stringify(elfNeeds(process.argv[2]), null, 2))
