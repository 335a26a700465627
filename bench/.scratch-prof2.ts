import { readdirSync } from 'node:fs';
import { summarizeCpuProfile } from './lib/cpu-profile.js';

const dir = '/tmp/limits-scratch/prof';
const f = readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))[0];
const s = await summarizeCpuProfile(`${dir}/${f}`, 25);
console.log(JSON.stringify(s, null, 1));
