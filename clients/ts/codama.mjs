// Generates the typed TypeScript client (src/generated/{market,stake}) from the committed
// Anchor IDLs in ../../idl with Codama. Run `npm run generate` after the IDLs change;
// the test suite checks the committed output is current.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createFromRoot } from 'codama';
import { rootNodeFromAnchor } from '@codama/nodes-from-anchor';
import { renderVisitor } from '@codama/renderers-js';

const here = path.dirname(fileURLToPath(import.meta.url));
const programs = [
  ['assay_market.json', 'market'],
  ['assay_stake.json', 'stake'],
];
for (const [idlFile, folder] of programs) {
  const idl = JSON.parse(readFileSync(path.join(here, '../../idl', idlFile), 'utf8'));
  const codama = createFromRoot(rootNodeFromAnchor(idl));
  await codama.accept(
    renderVisitor(here, {
      generatedFolder: `src/generated/${folder}`,
      syncPackageJson: false,
      // Everything from @solana/kit itself (v6+ carries program-client-core as a subpath).
      kitImportStrategy: 'rootOnly',
      dependencyVersions: { '@solana/kit': '6.5.0' },
    }),
  );
  console.log(`generated src/generated/${folder} from idl/${idlFile}`);
}
