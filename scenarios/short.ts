// CI's profile: 1000 concurrent users at a sustainable pace (users-1000: think ~10 s) for 30 s, on
// every submission. The users start spread over 10 s, so a 30 s run has 20 s with all 1000 active.
import { applyOverrides, type LoadProfile } from '../harness/load/profile.ts';
import usersProfile from './users-1000.ts';

const profile: LoadProfile = {
  ...applyOverrides(usersProfile, { duration: '30s' }),
  name: 'short',
  description: 'CI: 1000 VUs, create → confirm → dashboard → think ~10 s, for 30 s',
};

export default profile;
