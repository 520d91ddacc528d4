'use strict'
// The option table (options.js) is the one description of every option: the runtime builders,
// index.d.ts and the generated binding types must all agree with it.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, clearAlibabaEnv } = require('../helpers')

clearAlibabaEnv()
const Credential = require('alicloud-credentials-native')
const { OPTIONS, CONFIG_OPTIONS } = require('../../options.js')
const ts = require(path.join(ROOT, 'node_modules', 'typescript'))

const PROVIDERS = Object.keys(Credential).filter((k) => k.endsWith('CredentialsProvider'))

// index.d.ts through the TypeScript checker: every declaration of `namespace Credential` by name.
function declarations() {
  const file = path.join(ROOT, 'index.d.ts')
  const program = ts.createProgram([file], { strict: true, noEmit: true, types: [] })
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)
  const byName = new Map()
  for (const statement of source.statements) {
    if (ts.isModuleDeclaration(statement) && statement.name.text === 'Credential') {
      for (const d of statement.body.statements) if (d.name) byName.set(d.name.text, d)
    }
  }
  // The properties of a declared type (inherited and merged ones included), each with its type
  // as a sorted union without `undefined`; methods give their first parameter's type.
  const members = (name) => {
    const decl = byName.get(name)
    assert.ok(decl, `index.d.ts declares ${name}`)
    const type = checker.getDeclaredTypeOfSymbol(checker.getSymbolAtLocation(decl.name))
    const out = new Map()
    for (const prop of checker.getPropertiesOfType(type)) {
      let t = checker.getTypeOfSymbolAtLocation(prop, decl)
      const [signature] = checker.getSignaturesOfType(t, ts.SignatureKind.Call)
      if (signature) {
        if (signature.parameters.length === 0) continue
        t = checker.getTypeOfSymbolAtLocation(signature.parameters[0], decl)
      }
      out.set(prop.name, union(checker.typeToString(t)))
    }
    return out
  }
  return { members }
}

function union(text) {
  return text
    .split(' | ')
    .filter((t) => t !== 'undefined')
    .sort()
    .join(' | ')
}

// Config options may be declared wider (`ts`) than the type a setter takes.
const typeOf = (option) => union(option.ts || option.type)

test('index.d.ts: ConfigOptions and Config declare every Config option of the table, with its type', () => {
  const { members } = declarations()
  for (const name of ['ConfigOptions', 'Config']) {
    const declared = members(name)
    declared.delete('toMap')
    assert.deepEqual([...declared.keys()].sort(), CONFIG_OPTIONS.map((o) => o.name).sort(), name)
    for (const option of CONFIG_OPTIONS) assert.equal(declared.get(option.name), typeOf(option), `${name}.${option.name}`)
  }
})

test('every builder has exactly the setters the table gives it, at run time and in index.d.ts', () => {
  const { members } = declarations()
  const bySetter = new Map(OPTIONS.filter((o) => o.setter).map((o) => [o.setter, o]))
  for (const provider of PROVIDERS) {
    const builder = Credential[provider].builder()
    const runtime = Object.getOwnPropertyNames(Object.getPrototypeOf(builder)).filter((m) => m.startsWith('with') && m !== 'withCredentialsProvider')
    const declared = members(`${provider}Builder`)
    const typed = [...declared.keys()].filter((m) => m.startsWith('with') && m !== 'withCredentialsProvider')
    assert.deepEqual(typed.sort(), runtime.sort(), `${provider}Builder setters in index.d.ts`)
    for (const setter of runtime) {
      const option = bySetter.get(setter)
      assert.ok(option, `${setter} is in the table`)
      assert.equal(declared.get(setter), union(option.type), `${provider}Builder.${setter}() parameter type`)
    }
  }
  const used = new Set(PROVIDERS.flatMap((p) => Object.getOwnPropertyNames(Object.getPrototypeOf(Credential[p].builder()))))
  for (const setter of bySetter.keys()) assert.ok(used.has(setter), `${setter} is on some builder`)
})

test('the native option object takes exactly the names of the table, with the Rust fields it names', () => {
  const binding = fs.readFileSync(path.join(ROOT, 'binding.d.ts'), 'utf8')
  const fields = (iface) => [...new RegExp(`interface ${iface} \\{([^}]*)\\}`).exec(binding)[1].matchAll(/^\s*(\w+)\?:/gm)].map((m) => m[1]).sort()
  // A Config and a builder hand over the same object, each with the options it reads.
  const native = OPTIONS.filter((o) => o.config === 'native' || o.setter).map((o) => o.name)
  assert.deepEqual(fields('NativeOptions'), native.sort())
  for (const gone of ['NativeConfig', 'NativeProviderOptions']) assert.ok(!binding.includes(`interface ${gone} `), gone)
  const rust = fs
    .readdirSync(path.join(ROOT, 'src', 'binding'))
    .filter((f) => f.endsWith('.rs'))
    .map((f) => fs.readFileSync(path.join(ROOT, 'src', 'binding', f), 'utf8'))
    .join('\n')
  for (const option of OPTIONS.filter((o) => o.rust)) {
    assert.match(rust, new RegExp(`pub ${option.rust}: Option<`), `src/binding/ has the field ${option.rust}`)
  }
})

test('every option the table takes is checked by type, in Config and in its builder setter', async () => {
  for (const option of OPTIONS) {
    // Under DEBUG each TypeError is a log line; paced so a small stderr pipe drains between
    // options (the native logger aborts on a full non-blocking pipe until it learns not to).
    await new Promise((r) => setTimeout(r, 10))
    const wrong = option.type === 'string' ? 7 : {}
    if (option.config) {
      assert.throws(() => new Credential.Config({ [option.name]: wrong }), { code: 'ERR_INVALID_ARG_TYPE', message: new RegExp(`"${option.name}"`) })
    }
    for (const provider of PROVIDERS) {
      const builder = Credential[provider].builder()
      if (option.setter && typeof builder[option.setter] === 'function') {
        assert.throws(() => builder[option.setter](wrong), { code: 'ERR_INVALID_ARG_TYPE', message: new RegExp(`^${option.setter}\\(\\): "${option.name}"`) })
      }
    }
  }
})
