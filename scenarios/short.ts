// 1000 concurrent users at a sustainable pace (users-1000: think ~3 s) for 30 s: what
// `npm run verify -- --quick` runs. The users start spread over 3 s, so a 30 s run has 27 s with
// all 1000 active.
import { applyOverrides, type LoadProfile } from '../harness/load/profile.ts';
import usersProfile from './users-1000.ts';

const profile: LoadProfile = {
  ...applyOverrides(usersProfile, { duration: '30s' }),
  name: 'short',
  description: 'verify --quick: 1000 VUs, create → confirm → dashboard → think ~3 s, for 30 s',
};

export default profile;
