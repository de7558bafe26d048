// CI's profile: the default load (1000 users, think ~1 s) for 30 s, on every submission.
import { applyOverrides, type LoadProfile } from '../harness/load/profile.ts';
import defaultProfile from './default.ts';

const profile: LoadProfile = {
  ...applyOverrides(defaultProfile, { duration: '30s' }),
  name: 'short',
  description: 'CI: 1000 VUs, create → confirm → dashboard → think ~1 s, for 30 s',
};

export default profile;
