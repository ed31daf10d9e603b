// Worker threads do not inherit the tsx loader of `node --import tsx`, so each worker
// registers it before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
