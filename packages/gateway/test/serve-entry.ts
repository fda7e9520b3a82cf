// Runs a gateway process from the environment exactly as `portico serve` does (tests that
// need a separate process, e.g. to measure its memory).
import { serve } from '../src/main.ts';

await serve(process.env);
