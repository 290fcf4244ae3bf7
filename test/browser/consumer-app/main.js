// A user's app: one import of the packed library, nothing configured.
import { diagnose } from 'webgpu-embed';

diagnose().then(
  (d) => {
    window.__result = d;
    document.getElementById('out').textContent = JSON.stringify(d, null, 2);
  },
  (e) => {
    window.__error = String((e && e.stack) || e);
  },
);
