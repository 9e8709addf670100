export async function missionWorkflow(): Promise<{ status: string }> {
  return { status: 'Completed' };
}
