/**
 * Tensor Views in JupyterLab and Notebook 7: the docked Storage Graph panel (right sidebar)
 * that follows the active notebook's kernel, its palette command, and an entry (launcher and
 * palette) that opens the server extension's `/tensorviews/` page. The MIME renderer is the
 * separate `mime` entry (package.json `jupyterlab.mimeExtension`).
 */

import { type JupyterFrontEnd, type JupyterFrontEndPlugin, ILayoutRestorer } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker, NotebookActions, type NotebookPanel } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';
import { type KernelTarget, PANEL_ID, StorageGraphPanel } from './panel';

const COMMAND_PANEL = 'tensorviews:show-storage-graph';
const COMMAND_PAGE = 'tensorviews:open-kernels-page';

// Two storages joined by views: the panel's sidebar icon.
const graphIcon = new LabIcon({
  name: 'tensorviews:graph',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">' +
    '<g class="jp-icon3" fill="#616161"><rect x="1" y="2" width="6" height="4" rx="1"/>' +
    '<rect x="9" y="10" width="6" height="4" rx="1"/><rect x="9" y="2" width="6" height="4" rx="1"/>' +
    '<path d="M4 6v6h5v-1H5V6z"/><path d="M7 3.5h2v1H7z"/></g></svg>',
});

function targetOf(panel: NotebookPanel | null): KernelTarget | null {
  const kernel = panel?.sessionContext.session?.kernel;
  if (!panel || !kernel) return null;
  return { kernelId: kernel.id, label: `${panel.context.path} (${kernel.name})` };
}

const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'tensorviews:storage-graph-panel',
  description: 'A docked Storage Graph panel that follows the active notebook kernel.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILauncher, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null,
  ) => {
    const panel = new StorageGraphPanel(() => PageConfig.getBaseUrl());
    panel.title.icon = graphIcon;
    app.shell.add(panel, 'right', { rank: 600 });
    restorer?.add(panel, PANEL_ID);

    // Follow the active notebook, its kernel changes, and every cell it executes.
    const followed = new Set<NotebookPanel>();
    const follow = (): void => panel.follow(targetOf(tracker.currentWidget));
    const watch = (notebook: NotebookPanel | null): void => {
      if (notebook && !followed.has(notebook)) {
        followed.add(notebook);
        notebook.sessionContext.kernelChanged.connect(() => {
          if (tracker.currentWidget === notebook) follow();
        });
        notebook.sessionContext.statusChanged.connect((_, status) => {
          if (tracker.currentWidget === notebook && status === 'restarting') panel.refresh();
        });
        notebook.disposed.connect(() => followed.delete(notebook));
      }
      follow();
    };
    tracker.currentChanged.connect((_, notebook) => watch(notebook));
    tracker.widgetAdded.connect((_, notebook) => {
      void notebook.sessionContext.ready.then(() => {
        if (tracker.currentWidget === notebook) follow();
      });
    });
    NotebookActions.executed.connect((_, { notebook }) => {
      if (tracker.currentWidget?.content === notebook) {
        follow();
        panel.refresh();
      }
    });
    watch(tracker.currentWidget);

    app.commands.addCommand(COMMAND_PANEL, {
      label: 'Show Storage Graph',
      caption: 'Tensor Views: the storage graph of the active notebook kernel, docked on the right',
      icon: graphIcon,
      execute: () => {
        app.shell.activateById(PANEL_ID);
        panel.refresh();
      },
    });
    app.commands.addCommand(COMMAND_PAGE, {
      label: 'Tensor Views Kernels Page',
      caption: "Open the server's /tensorviews/ page: every kernel's storage graph",
      icon: graphIcon,
      execute: () => {
        window.open(URLExt.join(PageConfig.getBaseUrl(), 'tensorviews/'), '_blank', 'noopener');
      },
    });
    palette?.addItem({ command: COMMAND_PANEL, category: 'Tensor Views' });
    palette?.addItem({ command: COMMAND_PAGE, category: 'Tensor Views' });
    launcher?.add({ command: COMMAND_PAGE, category: 'Other', rank: 50 });
  },
};

export default [panelPlugin];
