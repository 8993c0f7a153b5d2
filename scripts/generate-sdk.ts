// `npm run sdk:generate`: rewrites packages/sdk/src/generated/ from docs/api/openapi.json (run it
// after `npm run api:documents`; packages/sdk/test/generated.test.ts fails until the two agree).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { generatedIdempotentPosts, generatedIdempotentPostsPath, generatedTypes, generatedTypesPath, readApiDocumentFile } from '../packages/sdk/codegen/sdk-types.ts';

const document = readApiDocumentFile();
writeFileSync(generatedTypesPath, await generatedTypes(document));
console.log(`wrote ${relative(process.cwd(), generatedTypesPath)}`);
writeFileSync(generatedIdempotentPostsPath, generatedIdempotentPosts(document));
console.log(`wrote ${relative(process.cwd(), generatedIdempotentPostsPath)}`);
