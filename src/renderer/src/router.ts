import { createRouter, createWebHashHistory, createMemoryHistory, type RouteRecordRaw, type RouterHistory } from 'vue-router'

/** A link in the sidebar. Views added later (Generate, Compare) add a route with `meta.nav`. */
export interface NavMeta {
  nav?: { label: string; icon: string; order: number }
  title?: string
}

declare module 'vue-router' {
  interface RouteMeta extends NavMeta {}
}

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/datasets' },
  {
    path: '/datasets',
    name: 'datasets',
    component: () => import('./views/DatasetsView.vue'),
    meta: { nav: { label: 'Datasets', icon: 'datasets', order: 10 }, title: 'Datasets' }
  },
  {
    path: '/new',
    name: 'new-run',
    component: () => import('./views/NewRunView.vue'),
    meta: { nav: { label: 'New run', icon: 'new', order: 20 }, title: 'New run' }
  },
  {
    path: '/runs',
    name: 'runs',
    component: () => import('./views/RunsView.vue'),
    meta: { nav: { label: 'Runs', icon: 'runs', order: 30 }, title: 'Runs' }
  },
  {
    path: '/runs/:id',
    name: 'run',
    component: () => import('./views/RunView.vue'),
    props: true,
    meta: { title: 'Run' }
  },
  // Generate (order 40) and Compare (order 50) plug in here.
  {
    path: '/generate',
    name: 'generate',
    component: () => import('./views/GenerateView.vue'),
    meta: { nav: { label: 'Generate', icon: 'generate', order: 40 }, title: 'Generate' }
  },
  {
    path: '/compare',
    name: 'compare',
    component: () => import('./views/CompareView.vue'),
    meta: { nav: { label: 'Compare', icon: 'compare', order: 50 }, title: 'Compare' }
  },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue'), meta: { title: 'Not found' } }
]

/** Hash history: works from file:// in the desktop app and keeps `?token=` in the browser. */
export function createStudioRouter(history: RouterHistory = createWebHashHistory()) {
  const router = createRouter({ history, routes })
  router.afterEach((to) => {
    if (typeof document !== 'undefined') document.title = to.meta.title ? `${to.meta.title} · GAN Studio` : 'GAN Studio'
  })
  return router
}

export { createMemoryHistory }
